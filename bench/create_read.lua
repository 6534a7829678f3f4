-- wrk script: create a record, read it back, repeat. Run with one connection per thread
-- (-t N -c N) so that each thread's requests and responses strictly alternate.
--   CREATE_PATH, CREATE_BODY_FILE (one body per line, used in turn), CONTENT_TYPE
--   READ_METHOD (GET or POST), READ_PATH and READ_BODY: "{id}" in them is replaced by the
--   id the create answered (the first number after an "id" key, or ID_PATTERN).
-- Every status of 400 or more counts as an error. Prints one BENCH line of JSON.
local creates = {}
for line in io.lines(os.getenv("CREATE_BODY_FILE")) do
  if #line > 0 then creates[#creates + 1] = line end
end
assert(#creates > 0, "CREATE_BODY_FILE holds no body")

local threads = {}
function setup(thread)
  thread:set("offset", #threads)
  threads[#threads + 1] = thread
end

local create_path = os.getenv("CREATE_PATH")
local read_method = os.getenv("READ_METHOD") or "GET"
local read_path = os.getenv("READ_PATH")
local read_body = os.getenv("READ_BODY") or ""
local id_pattern = os.getenv("ID_PATTERN") or '"id"%s*:%s*"?([%w%-]+)'
local counter = 0
local next_id = nil
missing_ids = 0  -- global: done() reads it from each thread

function init(args)
  wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/json"
  counter = ((offset or 0) * 7919) % #creates
end

function request()
  if next_id then
    local id = next_id
    next_id = nil
    local path = read_path:gsub("{id}", id)
    local body = nil
    if read_method ~= "GET" then body = read_body:gsub("{id}", id) end
    return wrk.format(read_method, path, nil, body)
  end
  counter = counter % #creates + 1
  return wrk.format("POST", create_path, nil, creates[counter])
end

local expect_create = true
function response(status, headers, body)
  if expect_create then
    next_id = body:match(id_pattern)
    if not next_id then missing_ids = missing_ids + 1 end
  end
  -- a create without an id is followed by another create
  expect_create = next_id == nil
end

function done(summary, latency, requests)
  local e = summary.errors
  local missing = 0
  for _, thread in ipairs(threads) do missing = missing + (thread:get("missing_ids") or 0) end
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "missing_ids": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), missing))
end
