#include "api/http_status.h"

#include <gtest/gtest.h>

namespace medledger::api {
namespace {

TEST(HttpStatus, TooLargeAndTooManyAreDifferentAnswers) {
  EXPECT_EQ(HttpStatus(StatusCode::kTooLarge), 413);
  EXPECT_EQ(HttpStatus(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(ErrorCodeName(StatusCode::kResourceExhausted), std::string("too_many_requests"));
}

TEST(HttpStatus, OnlyFhirConditionalWritesAnswer412) {
  EXPECT_EQ(HttpStatus(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(FhirWriteHttpStatus(StatusCode::kFailedPrecondition), 412);
  for (auto c : {StatusCode::kInvalidArgument, StatusCode::kNotFound, StatusCode::kAborted, StatusCode::kGone,
                 StatusCode::kTooLarge, StatusCode::kUnavailable})
    EXPECT_EQ(FhirWriteHttpStatus(c), HttpStatus(c));
}

TEST(HttpStatus, EveryCodeHasAnAnswer) {
  const std::pair<StatusCode, int> table[] = {
      {StatusCode::kOk, 200},           {StatusCode::kInvalidArgument, 400},  {StatusCode::kUnauthenticated, 401},
      {StatusCode::kPermissionDenied, 403}, {StatusCode::kNotFound, 404},     {StatusCode::kAlreadyExists, 409},
      {StatusCode::kAborted, 409},      {StatusCode::kGone, 410},             {StatusCode::kUnavailable, 503},
      {StatusCode::kDataLoss, 500},     {StatusCode::kInternal, 500}};
  for (const auto& [code, http] : table) EXPECT_EQ(HttpStatus(code), http) << StatusCodeName(code);
}

TEST(HttpStatus, VerdictsMapThroughTheirStatusCode) {
  using model::Reject;
  EXPECT_EQ(HttpStatus(Reject::kBadSignature), 401);
  EXPECT_EQ(HttpStatus(Reject::kUnknownSigner), 401);
  EXPECT_EQ(HttpStatus(Reject::kDenied), 403);
  EXPECT_EQ(HttpStatus(Reject::kRoleNotPermitted), 403);
  EXPECT_EQ(HttpStatus(Reject::kReplayed), 409);
  EXPECT_EQ(HttpStatus(Reject::kConflict), 409);
  EXPECT_EQ(HttpStatus(Reject::kOversized), 413);
  EXPECT_EQ(HttpStatus(Reject::kNotFound), 404);
  EXPECT_EQ(HttpStatus(Reject::kInvalidPayload), 400);
  EXPECT_EQ(HttpStatus(Reject::kMalformed), 400);
}

TEST(HttpStatus, RetryAnswersSayWhen) {
  EXPECT_TRUE(ErrorResponse(Unavailable("x")).headers.size() == 1);
  EXPECT_EQ(ErrorResponse(ResourceExhausted("x")).headers.at(0).first, "Retry-After");
  EXPECT_TRUE(ErrorResponse(InvalidArgument("x")).headers.empty());
  EXPECT_EQ(FhirError(Unavailable("x")).content_type, "application/fhir+json");
}

}  // namespace
}  // namespace medledger::api
