#include "http/client.h"

#include <gtest/gtest.h>

#include "http/server.h"
#include "http/test_util.h"

namespace medledger::http {
namespace {

using testing::WaitFor;
constexpr auto kTimeout = std::chrono::seconds(30);  // hang guard only

std::unique_ptr<Server> WhoAmIServer(ServerOptions opts = {}) {
  auto server = std::make_unique<Server>(opts);
  server->Route("GET", "/whoami", [](Request& req, Reply reply) {
    reply(Response::Json(200, req.remote_address));
  });
  server->Route("GET", "/api/v1/path", [](Request& req, Reply reply) {
    reply(Response::Json(200, req.path));
  });
  server->Route("POST", "/type", [](Request& req, Reply reply) {
    reply(Response::Json(200, req.Header("Content-Type").value_or("") + " " + req.body));
  });
  server->Route("GET", "/bye", [](Request&, Reply reply) {
    Response r = Response::Json(200, "{}");
    r.headers.emplace_back("Connection", "close");  // ignored: the server decides
    reply(std::move(r));
  });
  EXPECT_TRUE(server->Start().ok());
  return server;
}

std::string Base(const Server& s) { return "http://127.0.0.1:" + std::to_string(s.port()); }

TEST(ClientTest, ReconnectsAfterServerClosedIdleConnection) {
  ServerOptions opts;
  opts.idle_timeout = std::chrono::seconds(1);
  auto server = WhoAmIServer(opts);
  Client client(Base(*server), kTimeout);
  auto first = client.Get("/whoami");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(WaitFor([&] { return server->open_connections() == 0; }));
  auto second = client.Get("/whoami");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->status, 200);
  EXPECT_NE(second->body, first->body);  // a new connection, new source port
}

TEST(ClientTest, ReconnectsAfterServerRestartOnSamePort) {
  auto server = WhoAmIServer();
  uint16_t port = server->port();
  Client client(Base(*server), kTimeout);
  ASSERT_TRUE(client.Get("/whoami").ok());
  server.reset();
  ServerOptions opts;
  opts.port = port;
  server = WhoAmIServer(opts);
  auto r = client.Get("/whoami");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
}

TEST(ClientTest, ConnectionRefusedIsUnavailable) {
  auto server = WhoAmIServer();
  std::string base = Base(*server);
  server.reset();
  Client client(base, kTimeout);
  auto r = client.Get("/whoami");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("cannot connect to 127.0.0.1:"), std::string::npos)
      << r.status().message();
}

TEST(ClientTest, PathPrefixAndContentType) {
  auto server = WhoAmIServer();
  Client client(Base(*server) + "/api/", kTimeout);
  auto r = client.Get("/v1/path");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "/api/v1/path");

  Client plain(Base(*server), kTimeout);
  r = plain.Post("/type", "abc", "text/plain");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "text/plain abc");
}

TEST(ClientTest, ServerSideConnectionCloseHeaderIsNotForwarded) {
  auto server = WhoAmIServer();
  Client client(Base(*server), kTimeout);
  auto r = client.Get("/bye");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->Header("Connection").value_or(""), "close");
  EXPECT_EQ(client.Get("/whoami")->status, 200);
}

TEST(ClientTest, HeadResponseHasNoBody) {
  Server s({});
  s.Route("HEAD", "/doc", [](Request&, Reply reply) {
    reply(Response::Json(200, "{\"size\":12345}"));
  });
  ASSERT_TRUE(s.Start().ok());
  Client client(Base(s), kTimeout);
  auto r = client.Request("HEAD", "/doc");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Length"), "14");
  EXPECT_EQ(r->body, "");
  // The connection is still in sync for the next request.
  r = client.Request("HEAD", "/doc");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST(ClientTest, BadInputIsInvalidArgument) {
  Client bad("127.0.0.1:80", kTimeout);
  EXPECT_EQ(bad.Get("/x").status().code(), StatusCode::kInvalidArgument);
  auto server = WhoAmIServer();
  Client client(Base(*server), kTimeout);
  EXPECT_EQ(client.Get("whoami").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace medledger::http
