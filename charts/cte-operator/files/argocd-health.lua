-- Argo CD health check for the cte.netskope.io kinds: NetskopeTenant, CTEPlugin, BusinessRule and
-- SharingConfiguration (one script serves all four; their status has the same shape).
--
-- The rules follow kstatus (sigs.k8s.io/cli-utils/pkg/kstatus), so Argo CD, Flux and
-- `kubectl wait --for=condition=Ready` agree:
--   Suspended    spec.suspend is true (only SharingConfiguration has it)
--   Progressing  no status yet, status.observedGeneration behind metadata.generation,
--                Reconciling=True, or Ready missing or Unknown
--   Degraded     Stalled=True (a terminal error: fixed only by changing the object), or Ready=False
--   Healthy      Ready=True for the current generation (a truncated list stays Healthy: the
--                operator reports it with a Warning Event and the cte_list_truncated_entries metric)
--
-- Argo CD runs custom checks with the base, table and os libraries only (no string library),
-- so the script uses nothing else.

local function find(conditions, wanted)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == wanted then
      return c
    end
  end
  return nil
end

local function describe(c)
  local text = ""
  if c.reason ~= nil and c.reason ~= "" then
    text = c.reason
  end
  if c.message ~= nil and c.message ~= "" then
    if text ~= "" then
      text = text .. ": "
    end
    text = text .. c.message
  end
  if text == "" then
    text = c.type .. " is " .. c.status
  end
  return text
end

if obj.spec ~= nil and obj.spec.suspend == true then
  return { status = "Suspended", message = "Suspended: spec.suspend is true, nothing is written to the tenant" }
end

if obj.status == nil then
  return { status = "Progressing", message = "Waiting for the operator to observe the object" }
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  return { status = "Progressing", message = "Waiting for the operator to act on generation " .. generation }
end

local conditions = obj.status.conditions

local stalled = find(conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  return { status = "Degraded", message = describe(stalled) }
end

local reconciling = find(conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  return { status = "Progressing", message = describe(reconciling) }
end

local ready = find(conditions, "Ready")
if ready == nil then
  return { status = "Progressing", message = "Waiting for the Ready condition" }
end
if ready.status == "True" then
  return { status = "Healthy", message = describe(ready) }
end
if ready.status == "False" then
  return { status = "Degraded", message = describe(ready) }
end
return { status = "Progressing", message = describe(ready) }
