-- A policy with a bug, for tests/scenarios/claims_errors.scn: adjudicate
-- writes its state and then fails. The claim gets outcome error with code
-- policy-failed, and the write is dropped with the rest of the call.
function adjudicate(req)
  state.put("seen/" .. req.claim.id, 1)
  error("policy bug: no fee schedule for plan " .. tostring(req.coverage.plan))
end

function release(req) end
