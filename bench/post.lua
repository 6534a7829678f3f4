-- wrk script: POST the bodies in the file named by BODY_FILE (one body per line) in turn,
-- with the Content-Type named by CONTENT_TYPE. Thread t of T sends bodies BODY_START + t,
-- BODY_START + t + T, BODY_START + t + 2T, ... (wrapping around the file), so no two threads
-- send the same body, and a later run that starts where this one ended (the "next_body" it
-- prints) sends none that this one sent, until the file is used up. Prints one BENCH line
-- of JSON.
local bodies = {}
for line in io.lines(os.getenv("BODY_FILE")) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
assert(#bodies > 0, "BODY_FILE holds no body")

local start = tonumber(os.getenv("BODY_START") or "0")
local threads = {}
function setup(thread)
  thread:set("index", #threads)
  threads[#threads + 1] = thread
end

local prepared = {}
local stride = 1
position = 0  -- global: done() reads it from each thread
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/octet-stream"
  for i, body in ipairs(bodies) do
    prepared[i] = wrk.format(nil, nil, nil, body)
  end
  stride = tonumber(os.getenv("THREADS") or "1")
  position = start + (index or 0)
end

function request()
  local body = prepared[position % #prepared + 1]
  position = position + stride
  return body
end

function done(summary, latency, requests)
  local e = summary.errors
  local next_body = start
  for _, thread in ipairs(threads) do
    next_body = math.max(next_body, thread:get("position") or start)
  end
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "next_body": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), next_body))
end
