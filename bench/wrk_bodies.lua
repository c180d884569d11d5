-- Cycles through pre-signed requests: each line of BODIES_FILE is "<signature>\t<body>".
-- WEBHOOK_PATH and SIGNATURE_HEADER name the endpoint and its header (Fitbit's by default);
-- AUTHORIZATION, when set, is sent as the Authorization header (Google Health's secret).
local requests = {}
local index = 0

function init(args)
  local path = os.getenv("BODIES_FILE")
  local webhook = os.getenv("WEBHOOK_PATH") or "/fitbit/webhook"
  local header = os.getenv("SIGNATURE_HEADER") or "X-Fitbit-Signature"
  local authorization = os.getenv("AUTHORIZATION")
  for line in io.lines(path) do
    local tab = string.find(line, "\t", 1, true)
    local headers = {["Content-Type"] = "application/json"}
    headers[header] = string.sub(line, 1, tab - 1)
    if authorization then
      headers["Authorization"] = authorization
    end
    requests[#requests + 1] = wrk.format("POST", webhook, headers, string.sub(line, tab + 1))
  end
  index = math.random(#requests)
end

function request()
  index = index % #requests + 1
  return requests[index]
end
