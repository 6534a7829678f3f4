-- wrk script: POST the bodies in the file named by BODY_FILE (one body per line) in turn,
-- with the Content-Type named by CONTENT_TYPE. Each thread starts at its own offset, so two
-- threads do not send the same body at the same moment. Prints one BENCH line of JSON.
local bodies = {}
for line in io.lines(os.getenv("BODY_FILE")) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
assert(#bodies > 0, "BODY_FILE holds no body")

local thread_count = 0
function setup(thread)
  thread:set("offset", thread_count)
  thread_count = thread_count + 1
end

local prepared = {}
local counter = 0
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/octet-stream"
  for i, body in ipairs(bodies) do
    prepared[i] = wrk.format(nil, nil, nil, body)
  end
  counter = ((offset or 0) * 7919) % #prepared
end

function request()
  counter = counter % #prepared + 1
  return prepared[counter]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
