-- wrk script: POST /v1/connections/{random id}/token with the runtime token.
-- Needs IDS_FILE and TOKEN in the environment; PATH_SUFFIX picks the endpoint.
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local token = os.getenv("TOKEN")
local suffix = os.getenv("PATH_SUFFIX") or "/token"
local method = os.getenv("METHOD") or "POST"
math.randomseed(os.time())
request = function()
  local id = ids[math.random(#ids)]
  return wrk.format(method, "/v1/connections/" .. id .. suffix, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, method == "POST" and "{}" or nil)
end
