-- Cycles through pre-signed requests: each line of BODIES_FILE is "<signature>\t<body>".
local requests = {}
local index = 0

function init(args)
  local path = os.getenv("BODIES_FILE")
  for line in io.lines(path) do
    local tab = string.find(line, "\t", 1, true)
    local signature = string.sub(line, 1, tab - 1)
    local body = string.sub(line, tab + 1)
    requests[#requests + 1] = wrk.format("POST", "/fitbit/webhook", {
      ["Content-Type"] = "application/json",
      ["X-Fitbit-Signature"] = signature,
    }, body)
  end
  index = math.random(#requests)
end

function request()
  index = index % #requests + 1
  return requests[index]
end
