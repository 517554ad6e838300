-- A simple plan: a fee schedule and nothing else (docs/POLICIES.md walks
-- through it). The insurer pays the allowed amount for each covered service,
-- or the charge when that is lower. No co-pays, no deductible, no limits, so
-- the policy keeps no state and `release` has nothing to undo.
--
-- Interface: docs/CLAIMS.md, "The policy interface". Amounts are integer
-- minor units (cents).

local CPT = "http://www.ama-assn.org/go/cpt"
local POLICY_REASON = "https://medledger.example/fhir/CodeSystem/policy-reason|"
local NOT_COVERED = "ar001"
-- The coverage did not run on the day of service (not yet started, ended,
-- cancelled). Not ar001: that says the service is excluded from the plan,
-- which would tell the provider the wrong thing to fix.
local COVERAGE_INACTIVE = POLICY_REASON .. "coverage-inactive"

-- Larger charges are refused as not adjudicable: they are typing errors,
-- and the bound keeps every sum below the int64 range.
local MAX_CHARGE = 10000000000000

-- Allowed amount per unit, by CPT code.
local PLANS = {
  basic = {
    ["99212"] = 7500,   -- office visit, established patient, straightforward
    ["99213"] = 11000,  -- low complexity
    ["99214"] = 16000,  -- moderate complexity
    ["99215"] = 21500,  -- high complexity
    ["80053"] = 1500,   -- comprehensive metabolic panel
    ["85025"] = 1100,   -- complete blood count
    ["71046"] = 4000,   -- chest x-ray, 2 views
    ["90686"] = 2500,   -- influenza vaccine
  },
}

local function is_int(v) return math.type(v) == "integer" end

local function active(claim, coverage)
  local day, cancelled = claim.service_day, coverage.cancelled_from_day
  if day < 0 or day >= coverage.period_days then return false end
  return cancelled == nil or cancelled == json.null or day < cancelled
end

-- min(charge, allowed * units) without overflowing int64 for absurd units.
local function eligible(allowed, units, charge)
  if units > charge // allowed then return charge end
  return math.min(charge, allowed * units)
end

local function decision(item, benefit, eligible_amount, reason)
  local adjudication = {submitted = item.charge, benefit = benefit}
  if eligible_amount then adjudication.eligible = eligible_amount end
  return {sequence = item.sequence, adjudication = adjudication,
          reasons = json.array(reason and {reason} or {})}
end

-- Returns an error text for a request the policy cannot read, else nil.
local function malformed(req)
  local claim, coverage = req.claim, req.coverage
  if type(claim) ~= "table" or type(coverage) ~= "table" then return "claim and coverage expected" end
  if not is_int(claim.service_day) or not is_int(coverage.period_days) then
    return "service_day and period_days must be integers"
  end
  local c = coverage.cancelled_from_day
  if c ~= nil and c ~= json.null and not is_int(c) then return "cancelled_from_day must be an integer" end
  if claim.currency ~= "USD" then return "amounts must be in USD" end
  if type(claim.items) ~= "table" then return "items expected" end
  for _, item in ipairs(claim.items) do
    if not is_int(item.units) or item.units < 1 then return "units must be an integer of at least 1" end
    if not is_int(item.charge) or item.charge < 0 or item.charge > MAX_CHARGE then
      return "charge must be an integer from 0 to " .. MAX_CHARGE
    end
  end
  return nil
end

function adjudicate(req)
  local bad = malformed(req)
  if bad then return {error = "not-adjudicable", message = bad} end
  local claim, coverage = req.claim, req.coverage
  local fees = PLANS[coverage.plan]
  if not fees then
    return {error = "unknown-plan", message = "plan '" .. tostring(coverage.plan) .. "' is not offered"}
  end

  local items = json.array({})
  if not active(claim, coverage) then
    for _, item in ipairs(claim.items) do items[#items + 1] = decision(item, 0, nil, COVERAGE_INACTIVE) end
    return {disposition = "Coverage not active on the day of service.", items = items}
  end

  for _, item in ipairs(claim.items) do
    local allowed = item.system == CPT and fees[item.code]
    if not allowed then
      items[#items + 1] = decision(item, 0, nil, NOT_COVERED)
    else
      local amount = eligible(allowed, item.units, item.charge)
      items[#items + 1] = decision(item, amount, amount, nil)
    end
  end
  local disposition = "Claim settled as per contract."
  if claim.use ~= "claim" then disposition = "Estimate only: no prior authorisation is needed under this plan." end
  return {disposition = disposition, items = items}
end

-- Nothing accumulates, so nothing to give back.
function release(req)
  return nil
end
