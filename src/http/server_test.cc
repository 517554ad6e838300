#include "http/server.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "http/client.h"
#include "http/test_util.h"

namespace medledger::http {
namespace {

using testing::RawConnection;
using testing::WaitFor;
using namespace std::chrono_literals;

constexpr auto kTimeout = std::chrono::seconds(30);  // hang guard only

std::string Url(const Server& s) {
  return "http://127.0.0.1:" + std::to_string(s.port());
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "|") + s;
  return out;
}

std::unique_ptr<Server> StartServer(ServerOptions opts,
                                    const std::function<void(Server&)>& routes) {
  auto server = std::make_unique<Server>(std::move(opts));
  routes(*server);
  Status st = server->Start();
  EXPECT_TRUE(st.ok()) << st.ToString();
  return server;
}

// Routes shared by most tests.
void EchoRoutes(Server& s) {
  s.Route("GET", "/ping", [](Request&, Reply reply) { reply(Response::Json(200, "{}")); });
  s.Route("POST", "/echo", [](Request& req, Reply reply) {
    Response r = Response::Json(200, req.body);
    r.content_type = "application/octet-stream";
    reply(std::move(r));
  });
  s.Route("POST", "/upload/{name}", [](Request& req, Reply reply) {
    reply(Response::Json(200, std::to_string(req.body.size())));
  });
  s.Route("GET", "/whoami", [](Request& req, Reply reply) {
    reply(Response::Json(200, req.remote_address));
  });
}

TEST(ServerTest, RoutesWithCapturesAndDecodedPath) {
  auto server = StartServer({}, [](Server& s) {
    auto params = [](Request& req, Reply reply) {
      reply(Response::Json(200, req.path + " " + Joined(req.params)));
    };
    s.Route("GET", "/records/{id}/versions/{v}", params);
    s.Route("GET", "/records/latest", params);
    s.Route("GET", "/files/{rest...}", params);
  });
  Client client(Url(*server), kTimeout);
  auto r = client.Get("/records/r%201/versions/3");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "/records/r 1/versions/3 r 1|3");
  EXPECT_EQ(r->Header("content-type"), "application/json");
  EXPECT_EQ(client.Get("/records/latest")->body, "/records/latest ");
  EXPECT_EQ(client.Get("/files/a/b%2Fc")->body, "/files/a/b/c a/b/c");
}

TEST(ServerTest, QueryIsDecodedInOrder) {
  auto server = StartServer({}, [](Server& s) {
    s.Route("GET", "/q", [](Request& req, Reply reply) {
      std::string out;
      for (auto& [k, v] : req.query) out += "[" + k + "=" + v + "]";
      out += " a=" + req.Query("a").value_or("none") + " z=" + req.Query("z").value_or("none");
      out += " target=" + req.target;
      reply(Response::Json(200, out));
    });
  });
  Client client(Url(*server), kTimeout);
  auto r = client.Get("/q?a=1&b=hello%20world&c=x+y&flag&a=2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body,
            "[a=1][b=hello world][c=x y][flag=][a=2] a=1 z=none "
            "target=/q?a=1&b=hello%20world&c=x+y&flag&a=2");
}

TEST(ServerTest, BadPercentEncodingIs400AndConnectionStaysUsable) {
  auto server = StartServer({}, EchoRoutes);
  Client client(Url(*server), kTimeout);
  for (const char* target : {"/ping?a=%zz", "/pi%g1", "/ping?%=1", "/ping%"}) {
    auto r = client.Get(target);
    ASSERT_TRUE(r.ok()) << target;
    EXPECT_EQ(r->status, 400) << target;
    EXPECT_NE(r->body.find("\"code\":\"bad_request\""), std::string::npos) << r->body;
  }
  EXPECT_EQ(client.Get("/ping")->status, 200);
}

TEST(ServerTest, UnknownPathIs404AndWrongMethodIs405) {
  auto server = StartServer({}, EchoRoutes);
  Client client(Url(*server), kTimeout);
  auto r = client.Get("/nope");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->Header("Content-Type"), "application/json");
  EXPECT_NE(r->body.find("\"code\":\"not_found\""), std::string::npos) << r->body;

  r = client.Post("/ping", "{}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->Header("allow"), "GET");
  EXPECT_NE(r->body.find("\"code\":\"method_not_allowed\""), std::string::npos) << r->body;
  EXPECT_EQ(client.Get("/ping")->status, 200);
}

TEST(ServerTest, ErrorBodyIsEscapedJson) {
  Response r = Response::Error(409, "conflict", "quote \" and \\ and \n and \xff");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            "{\"error\":{\"code\":\"conflict\",\"message\":\"quote \\\" and \\\\ and \\n and "
            "\xef\xbf\xbd\"}}");
}

TEST(ServerTest, OversizedBodyIs413AndServerKeepsServing) {
  ServerOptions opts;
  opts.max_body_bytes = 1024;
  opts.body_limit_overrides = {{"/upload/", 64 * 1024}};
  auto server = StartServer(opts, EchoRoutes);
  Client client(Url(*server), kTimeout);

  EXPECT_EQ(client.Post("/echo", std::string(1024, 'x'))->status, 200);
  auto r = client.Post("/echo", std::string(4096, 'x'));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("\"code\":\"body_too_large\""), std::string::npos) << r->body;
  EXPECT_EQ(r->Header("Connection"), "close");

  // The override admits larger bodies on its prefix, but not beyond it.
  r = client.Post("/upload/scan", std::string(40000, 'y'));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "40000");
  EXPECT_EQ(client.Post("/upload/scan", std::string(70000, 'y'))->status, 413);

  Client other(Url(*server), kTimeout);
  EXPECT_EQ(other.Get("/ping")->status, 200);
  EXPECT_GE(server->rejected_total(), 2u);
}

TEST(ServerTest, OversizedChunkedBodyIs413) {
  ServerOptions opts;
  opts.max_body_bytes = 1024;
  auto server = StartServer(opts, EchoRoutes);
  RawConnection raw(server->port());
  ASSERT_TRUE(raw.connected());
  std::string chunk(1500, 'z');
  char size_line[32];
  snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
  raw.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
           std::string(size_line) + chunk + "\r\n0\r\n\r\n");
  std::string response = raw.ReadResponse();
  EXPECT_EQ(response.substr(0, 12), "HTTP/1.1 413") << response;
  EXPECT_TRUE(raw.ReadUntilClosed());
  EXPECT_EQ(Client(Url(*server), kTimeout).Get("/ping")->status, 200);
}

TEST(ServerTest, HugeHeadersAre431) {
  ServerOptions opts;
  opts.max_header_bytes = 4096;
  auto server = StartServer(opts, EchoRoutes);
  Client client(Url(*server), kTimeout);
  auto r = client.Get("/ping", {{"X-Big", std::string(8192, 'h')}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 431);
  EXPECT_NE(r->body.find("\"code\":\"headers_too_large\""), std::string::npos) << r->body;
  EXPECT_EQ(client.Get("/ping")->status, 200);
}

TEST(ServerTest, GarbageIs400AndServerKeepsServing) {
  auto server = StartServer({}, EchoRoutes);
  const std::string garbage[] = {
      std::string("\x01\x02\xff garbage\r\n\r\n", 15),
      "GET /ping HTTP/9.9\r\n\r\n",
      "GET /ping HTTP/1.1\r\nBad Header Line\r\n\r\n",
      "POST /echo HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  };
  for (const std::string& g : garbage) {
    RawConnection raw(server->port());
    ASSERT_TRUE(raw.connected());
    raw.Send(g);
    std::string response = raw.ReadResponse();
    EXPECT_EQ(response.substr(0, 12), "HTTP/1.1 400") << g << " -> " << response;
    EXPECT_NE(response.find("\"code\":\"bad_request\""), std::string::npos);
    EXPECT_TRUE(raw.ReadUntilClosed());
  }
  // A client that sends half a request and vanishes costs nothing either.
  { RawConnection(server->port()).Send("GET /ping HT"); }
  EXPECT_EQ(Client(Url(*server), kTimeout).Get("/ping")->status, 200);
  EXPECT_GE(server->rejected_total(), 5u);
}

TEST(ServerTest, HandlerExceptionIs500) {
  auto server = StartServer({}, [](Server& s) {
    EchoRoutes(s);
    s.Route("GET", "/throw", [](Request&, Reply) { throw std::runtime_error("boom"); });
    s.Route("GET", "/throw-int", [](Request&, Reply) { throw 42; });
    s.Route("GET", "/reply-then-throw", [](Request&, Reply reply) {
      reply(Response::Json(200, "\"ok\""));
      throw std::runtime_error("late");
    });
  });
  Client client(Url(*server), kTimeout);
  for (const char* target : {"/throw", "/throw-int"}) {
    auto r = client.Get(target);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 500);
    EXPECT_NE(r->body.find("\"code\":\"internal\""), std::string::npos);
    EXPECT_EQ(r->body.find("boom"), std::string::npos);  // no internals leak
  }
  EXPECT_EQ(client.Get("/reply-then-throw")->body, "\"ok\"");
  EXPECT_EQ(client.Get("/ping")->status, 200);  // same connection still fine
}

TEST(ServerTest, DroppedReplyIs500AndSecondReplyIsIgnored) {
  auto server = StartServer({}, [](Server& s) {
    EchoRoutes(s);
    s.Route("GET", "/drop", [](Request&, Reply) {});
    s.Route("GET", "/twice", [](Request&, Reply reply) {
      reply(Response::Json(200, "\"first\""));
      reply(Response::Json(201, "\"second\""));
    });
  });
  Client client(Url(*server), kTimeout);
  EXPECT_EQ(client.Get("/drop")->status, 500);
  auto r = client.Get("/twice");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "\"first\"");
  r = client.Get("/whoami");  // must not receive the ignored "second"
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("127.0.0.1:"), std::string::npos);
}

TEST(ServerTest, ReplyFromAnotherThreadWhileOthersAreServed) {
  std::mutex mu;
  std::promise<Reply> parked;
  auto server = StartServer({}, [&](Server& s) {
    EchoRoutes(s);
    s.Route("GET", "/wait/{tx}", [&](Request& req, Reply reply) {
      std::lock_guard<std::mutex> lock(mu);
      parked.set_value(reply);
    });
  });
  auto waiting = std::async(std::launch::async, [&] {
    return Client(Url(*server), kTimeout).Get("/wait/tx1");
  });
  Reply reply = parked.get_future().get();  // the long-poll is now parked

  // Both server threads are free while the reply is pending.
  Client other(Url(*server), kTimeout);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(other.Get("/ping")->status, 200);

  std::thread committer([reply] {
    std::this_thread::sleep_for(50ms);
    reply(Response::Json(200, "{\"committed\":true}"));
  });
  auto r = waiting.get();
  committer.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"committed\":true}");
}

TEST(ServerTest, ManyConcurrentAsyncReplies) {
  std::mutex mu;
  std::vector<std::thread> workers;
  auto server = StartServer({}, [&](Server& s) {
    s.Route("POST", "/async", [&](Request& req, Reply reply) {
      std::lock_guard<std::mutex> lock(mu);
      workers.emplace_back([reply, body = req.body] { reply(Response::Json(200, body)); });
    });
  });
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      Client client(Url(*server), kTimeout);
      for (int i = 0; i < 50; ++i) {
        std::string body = std::to_string(c) + "-" + std::to_string(i);
        auto r = client.Post("/async", body);
        if (r.ok() && r->status == 200 && r->body == body) ok++;
      }
    });
  }
  for (auto& t : clients) t.join();
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& t : workers) t.join();
  }
  EXPECT_EQ(ok.load(), 400);
  EXPECT_EQ(server->requests_total(), 400u);
}

TEST(ServerTest, IdleConnectionsDoNotStarveOthers) {
  constexpr int kIdle = 2000;
  if (!testing::EnsureFileLimit(2 * kIdle + 512)) {
    GTEST_SKIP() << "open-file limit too low for " << kIdle << " connections";
  }
  auto server = StartServer({}, EchoRoutes);
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(std::make_unique<RawConnection>(server->port()));
    ASSERT_TRUE(idle.back()->connected()) << i;
    if (i % 2 == 0) idle.back()->Send("GET /ping HTTP/1.1\r\nHost:");  // stalls mid-header
  }
  ASSERT_TRUE(WaitFor([&] { return server->open_connections() >= kIdle; }))
      << server->open_connections();
  for (int c = 0; c < 5; ++c) {
    Client client(Url(*server), kTimeout);
    for (int i = 0; i < 5; ++i) {
      auto r = client.Get("/ping");
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->status, 200);
    }
  }
  // The idle ones were never closed on us.
  EXPECT_GE(server->open_connections(), static_cast<uint64_t>(kIdle));
}

TEST(ServerTest, KeepAliveReusesOneConnection) {
  auto server = StartServer({}, EchoRoutes);
  Client client(Url(*server), kTimeout);
  std::string first = client.Get("/whoami")->body;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client.Get("/whoami")->body, first);
  EXPECT_EQ(server->open_connections(), 1u);
}

TEST(ServerTest, PipelinedRequestsAnsweredInOrder) {
  auto server = StartServer({}, EchoRoutes);
  RawConnection raw(server->port());
  raw.Send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\none"
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\ntwo");
  std::string a = raw.ReadResponse();
  std::string b = raw.ReadResponse();
  EXPECT_EQ(a.substr(a.size() - 3), "one") << a;
  EXPECT_EQ(b.substr(b.size() - 3), "two") << b;
}

TEST(ServerTest, ConnectionCloseIsHonoured) {
  auto server = StartServer({}, EchoRoutes);
  RawConnection raw(server->port());
  raw.Send("GET /ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  std::string response = raw.ReadResponse();
  EXPECT_EQ(response.substr(0, 12), "HTTP/1.1 200") << response;
  EXPECT_NE(response.find("Content-Length: 2\r\n"), std::string::npos) << response;
  EXPECT_NE(response.find("Connection: close\r\n"), std::string::npos) << response;
  EXPECT_TRUE(raw.ReadUntilClosed());

  RawConnection http10(server->port());
  http10.Send("GET /ping HTTP/1.0\r\n\r\n");
  response = http10.ReadResponse();
  EXPECT_EQ(response.substr(0, 12), "HTTP/1.0 200") << response;
  EXPECT_TRUE(http10.ReadUntilClosed());
}

TEST(ServerTest, ExpectContinueGetsInterimResponse) {
  auto server = StartServer({}, EchoRoutes);
  RawConnection raw(server->port());
  raw.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(raw.ReadResponse().substr(0, 12), "HTTP/1.1 100");
  raw.Send("hello");
  std::string response = raw.ReadResponse();
  EXPECT_EQ(response.substr(0, 12), "HTTP/1.1 200") << response;
  EXPECT_EQ(response.substr(response.size() - 5), "hello");
}

TEST(ServerTest, ExtraResponseHeadersAreSent) {
  auto server = StartServer({}, [](Server& s) {
    s.Route("GET", "/h", [](Request& req, Reply reply) {
      Response r = Response::Json(201, req.Header("x-TRACE").value_or("none"));
      r.content_type = "text/plain";
      r.headers = {{"X-Request-Id", "abc"}, {"Content-Length", "999"}};
      reply(std::move(r));
    });
  });
  Client client(Url(*server), kTimeout);
  auto r = client.Get("/h", {{"X-Trace", "t-1"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "t-1");
  EXPECT_EQ(r->Header("x-request-id"), "abc");
  EXPECT_EQ(r->Header("content-type"), "text/plain");
  EXPECT_EQ(r->Header("content-length"), "3");
}

TEST(ServerTest, IdleTimeoutClosesConnection) {
  ServerOptions opts;
  opts.idle_timeout = std::chrono::seconds(1);
  auto server = StartServer(opts, EchoRoutes);
  RawConnection raw(server->port());
  raw.Send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(raw.ReadResponse().substr(0, 12), "HTTP/1.1 200");
  EXPECT_TRUE(raw.ReadUntilClosed());
  EXPECT_TRUE(WaitFor([&] { return server->open_connections() == 0; }));
}

TEST(ServerTest, ConnectionLimitAnswers503) {
  ServerOptions opts;
  opts.max_connections = 2;
  auto server = StartServer(opts, EchoRoutes);
  RawConnection a(server->port()), b(server->port());
  ASSERT_TRUE(WaitFor([&] { return server->open_connections() == 2; }));
  RawConnection c(server->port());
  std::string response = c.ReadResponse();
  EXPECT_EQ(response.substr(0, 12), "HTTP/1.1 503") << response;
  EXPECT_TRUE(c.ReadUntilClosed());
  EXPECT_EQ(server->rejected_total(), 1u);
  // The admitted ones work.
  a.Send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(a.ReadResponse().substr(0, 12), "HTTP/1.1 200");
}

TEST(ServerTest, StartFailsWhenPortIsTaken) {
  auto first = StartServer({}, EchoRoutes);
  ServerOptions opts;
  opts.port = first->port();
  Server second(opts);
  Status st = second.Start();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  second.Stop();

  ServerOptions bad;
  bad.address = "not an address";
  EXPECT_EQ(Server(bad).Start().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(first->Start().code(), StatusCode::kFailedPrecondition);
  EXPECT_THROW(first->Route("GET", "/late", [](Request&, Reply) {}), std::logic_error);
}

TEST(ServerTest, StopClosesOpenConnectionsAndLateRepliesAreSafe) {
  std::promise<Reply> parked;
  auto server = StartServer({}, [&](Server& s) {
    EchoRoutes(s);
    s.Route("GET", "/wait", [&](Request&, Reply reply) { parked.set_value(reply); });
  });
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 50; ++i) {
    idle.push_back(std::make_unique<RawConnection>(server->port()));
  }
  auto waiting = std::async(std::launch::async, [&] {
    return Client(Url(*server), kTimeout).Get("/wait");
  });
  Reply reply = parked.get_future().get();
  ASSERT_TRUE(WaitFor([&] { return server->open_connections() == 51; }));

  server->Stop();
  server->Stop();  // idempotent
  EXPECT_EQ(server->open_connections(), 0u);
  for (auto& conn : idle) EXPECT_TRUE(conn->ReadUntilClosed());
  auto r = waiting.get();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);

  reply(Response::Json(200, "{}"));  // after Stop: dropped
  server.reset();
  reply(Response::Json(200, "{}"));  // after destruction: still safe
}

TEST(ServerTest, DestroyWithoutStartOrStop) {
  { Server never_started({}); }
  auto server = StartServer({}, EchoRoutes);
  RawConnection raw(server->port());
  server.reset();  // destructor stops
  EXPECT_TRUE(raw.ReadUntilClosed());
}

}  // namespace
}  // namespace medledger::http
