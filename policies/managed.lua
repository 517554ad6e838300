-- A managed-care plan (docs/POLICIES.md walks through it): a fee schedule,
-- co-pays on office visits, an annual deductible, a limit on benefit per
-- coverage period, a limit on physiotherapy visits, prior authorisation for
-- MRI, and claims only for encounters anchored on chain.
--
-- Interface: docs/CLAIMS.md, "The policy interface". Amounts are integer
-- minor units (cents). The coverage period is one year, so "annual" and "per
-- period" are the same thing here.
--
-- State (the contract's own keys; counters at 0 are deleted, never stored,
-- so that a release leaves state exactly as it was):
--   ded/<coverage>            deductible met so far
--   paid/<coverage>           benefit paid so far, against the plan limit
--   visits/<coverage>/<code>  visits so far, for codes with a visit limit
--   pa/<ref>/<code>           an unused prior authorisation: the coverage id
--   claim/<claim id>          what that claim accumulated, for release (below)
-- An upgrade must keep reading these keys and the record format: claims
-- adjudicated by the old version are released by the new one.

local CPT = "http://www.ama-assn.org/go/cpt"
local POLICY_REASON = "https://medledger.example/fhir/CodeSystem/policy-reason|"
local NOT_COVERED = "ar001"
local LIMIT_REACHED = "ar002"
local COVERAGE_INACTIVE = POLICY_REASON .. "coverage-inactive"
local PRIOR_AUTH_REQUIRED = POLICY_REASON .. "prior-auth-required"
local ENCOUNTER_REQUIRED = POLICY_REASON .. "encounter-required"

local MAX_CHARGE = 10000000000000  -- keeps every sum far below the int64 range

local VISIT_COPAY_CODES = {"99212", "99213", "99214", "99215"}

local function plan(p)
  p.copay = {}
  for _, code in ipairs(VISIT_COPAY_CODES) do p.copay[code] = p.visit_copay end
  return p
end

local PLANS = {
  silver = plan{
    allowed = {
      ["99212"] = 6500, ["99213"] = 9500, ["99214"] = 14000, ["99215"] = 19000,
      ["80053"] = 1200,    -- comprehensive metabolic panel
      ["85025"] = 900,     -- complete blood count
      ["71046"] = 3500,    -- chest x-ray, 2 views
      ["97110"] = 4500,    -- physiotherapy, therapeutic exercise, per 15 minutes
      ["70553"] = 110000,  -- MRI brain with and without contrast
    },
    visit_copay = 4000,    -- office visits: a co-pay, and the deductible does not apply
    deductible = 300000,   -- everything else: the member pays the first $3,000 a year
    limit = 5000000,       -- the plan pays at most $50,000 a year
    visits = {["97110"] = 12},
    prior_auth = {["70553"] = true},
  },
  gold = plan{
    allowed = {
      ["99212"] = 7500, ["99213"] = 11000, ["99214"] = 16000, ["99215"] = 21500,
      ["80053"] = 1500, ["85025"] = 1100, ["71046"] = 4000, ["97110"] = 5500,
      ["70553"] = 130000,
    },
    visit_copay = 2000,
    deductible = 100000,
    limit = 20000000,
    visits = {["97110"] = 20},
    prior_auth = {["70553"] = true},
  },
}

local function is_int(v) return math.type(v) == "integer" end
local function is_hex(v, max) return type(v) == "string" and #v <= max and v:match("^%x+$") ~= nil end

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

local function denied(item, reason)
  return {sequence = item.sequence, adjudication = {submitted = item.charge, benefit = 0},
          reasons = json.array({reason})}
end

local function malformed(req)
  local claim, coverage = req.claim, req.coverage
  if type(claim) ~= "table" or type(coverage) ~= "table" then return "claim and coverage expected" end
  -- Both ids become parts of state keys.
  if not is_hex(claim.id, 64) or not is_hex(coverage.id, 64) then return "ids must be hex" end
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

local function count(text)
  local n = tonumber(text)
  if math.type(n) ~= "integer" then error("unreadable count '" .. text .. "'") end
  return n
end

local function set_counter(key, n)
  if n < 0 then error("counter " .. key .. " would go negative") end
  if n == 0 then state.delete(key) else state.put(key, n) end
end

-- The prior authorisation references a claim carries, checked before they
-- are used in a state key.
local function pre_auth_refs(claim)
  local refs = {}
  if type(claim.pre_auth) == "table" then
    for _, ref in ipairs(claim.pre_auth) do
      if type(ref) == "string" and #ref <= 40 and ref:match("^PA%-%x+$") then refs[#refs + 1] = ref end
    end
  end
  return refs
end

function adjudicate(req)
  local bad = malformed(req)
  if bad then return {error = "not-adjudicable", message = bad} end
  local claim, coverage = req.claim, req.coverage
  local p = PLANS[coverage.plan]
  if not p then
    return {error = "unknown-plan", message = "plan '" .. tostring(coverage.plan) .. "' is not offered"}
  end
  local use = claim.use
  if use ~= "claim" and use ~= "preauthorization" and use ~= "predetermination" then
    return {error = "not-adjudicable", message = "unknown use"}
  end
  local record_key = "claim/" .. claim.id
  if state.get(record_key) ~= nil then
    return {error = "not-adjudicable", message = "claim already adjudicated"}
  end

  local items = json.array({})
  local function deny_all(reason, disposition)
    for _, item in ipairs(claim.items) do items[#items + 1] = denied(item, reason) end
    return {disposition = disposition, items = items}
  end
  if not active(claim, coverage) then
    return deny_all(COVERAGE_INACTIVE, "Coverage not active on the day of service.")
  end
  if use == "claim" and claim.encounter ~= true then
    return deny_all(ENCOUNTER_REQUIRED, "The claim names no encounter anchored on chain.")
  end

  local cov = coverage.id
  local ded_key, paid_key = "ded/" .. cov, "paid/" .. cov
  local ded0, paid0 = state.get(ded_key) or 0, state.get(paid_key) or 0
  local ded, paid = ded0, paid0
  local visits0, visits = {}, {}  -- by code, read when first needed
  local refs = pre_auth_refs(claim)
  local taken = {}       -- "ref/code" -> true: authorisations this claim uses
  local taken_list = {}  -- the same, in the order taken
  local grant_ref = "PA-" .. claim.id:sub(1, 16)
  local grants = {}      -- codes this preauthorization approves, in order
  local granted = {}

  local function take_pre_auth(code)
    for _, ref in ipairs(refs) do
      local k = ref .. "/" .. code
      if not taken[k] and state.get("pa/" .. k) == cov then
        taken[k] = true
        taken_list[#taken_list + 1] = k
        return true
      end
    end
    return false
  end

  for _, item in ipairs(claim.items) do
    local code = item.code
    local allowed = item.system == CPT and p.allowed[code]
    local max_visits = allowed and p.visits[code]
    if max_visits and visits[code] == nil then
      visits0[code] = state.get("visits/" .. cov .. "/" .. code) or 0
      visits[code] = visits0[code]
    end
    if not allowed then
      items[#items + 1] = denied(item, NOT_COVERED)
    elseif use == "claim" and p.prior_auth[code] and not take_pre_auth(code) then
      items[#items + 1] = denied(item, PRIOR_AUTH_REQUIRED)
    elseif max_visits and visits[code] >= max_visits then
      items[#items + 1] = denied(item, LIMIT_REACHED)
    elseif paid >= p.limit then
      items[#items + 1] = denied(item, LIMIT_REACHED)
    else
      local amount = eligible(allowed, item.units, item.charge)
      local copay = math.min(p.copay[code] or 0, amount)
      local deductible = 0
      if not p.copay[code] then deductible = math.min(p.deductible - ded, amount - copay) end
      local benefit = amount - copay - deductible
      local reasons = json.array({})
      if benefit > p.limit - paid then
        benefit = p.limit - paid
        reasons[1] = LIMIT_REACHED
      end
      ded, paid = ded + deductible, paid + benefit
      if max_visits then visits[code] = visits[code] + 1 end
      if use == "preauthorization" and p.prior_auth[code] and not granted[code] then
        granted[code] = true
        grants[#grants + 1] = code
      end
      items[#items + 1] = {
        sequence = item.sequence, reasons = reasons,
        adjudication = {submitted = item.charge, eligible = amount, copay = copay,
                        deductible = deductible, benefit = benefit},
      }
    end
  end

  -- What this claim changes in state, and its record for release: tokens
  -- "cov=<id> ded=<n> paid=<n> visit=<code>:<n> grant=<ref>/<code> use=<ref>/<code>".
  local record = {}
  if use == "claim" then
    if ded ~= ded0 then set_counter(ded_key, ded) record[#record + 1] = "ded=" .. (ded - ded0) end
    if paid ~= paid0 then set_counter(paid_key, paid) record[#record + 1] = "paid=" .. (paid - paid0) end
    for code, n in pairs(visits) do  -- ordered: codes bytewise
      if n ~= visits0[code] then
        set_counter("visits/" .. cov .. "/" .. code, n)
        record[#record + 1] = "visit=" .. code .. ":" .. (n - visits0[code])
      end
    end
    for _, k in ipairs(taken_list) do
      state.delete("pa/" .. k)
      record[#record + 1] = "use=" .. k
    end
  elseif use == "preauthorization" then
    for _, code in ipairs(grants) do
      state.put("pa/" .. grant_ref .. "/" .. code, cov)
      record[#record + 1] = "grant=" .. grant_ref .. "/" .. code
    end
  end
  if #record > 0 then
    state.put(record_key, "cov=" .. cov .. " " .. table.concat(record, " "))
  end

  local result = {disposition = "Claim settled as per contract.", items = items}
  if use == "preauthorization" then
    if #grants > 0 then
      result.pre_auth_ref = grant_ref
      result.disposition = "Prior authorisation granted."
    else
      result.disposition = "No prior authorisation is needed for these services."
    end
  elseif use == "predetermination" then
    result.disposition = "Estimate only: nothing has been paid or accumulated."
  end
  return result
end

-- Gives back exactly what adjudicate recorded for this claim, from the
-- record it kept: not from req.result, so a second release, or the release
-- of a claim that accumulated nothing, changes nothing.
function release(req)
  local claim = req.claim
  if type(claim) ~= "table" or not is_hex(claim.id, 64) then error("claim id expected") end
  local record_key = "claim/" .. claim.id
  local record = state.get(record_key)
  if record == nil then return nil end
  local cov = record:match("^cov=(%x+)")
  if not cov then error("unreadable record for claim " .. claim.id) end
  for kind, arg in record:gmatch("(%a+)=(%S+)") do
    if kind == "ded" or kind == "paid" then
      local key = kind .. "/" .. cov
      set_counter(key, (state.get(key) or 0) - count(arg))
    elseif kind == "visit" then
      local code, n = arg:match("^(.-):(%d+)$")
      local key = "visits/" .. cov .. "/" .. code
      set_counter(key, (state.get(key) or 0) - count(n))
    elseif kind == "grant" then
      state.delete("pa/" .. arg)
    elseif kind == "use" then
      state.put("pa/" .. arg, cov)
    end
  end
  state.delete(record_key)
  return nil
end
