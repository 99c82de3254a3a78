-- wrk's script for bench/saturation.py: each request a new barrel delivery or checkout, or a catalog read.
-- wrk -s bench/saturation.lua URL -- ROUTE FIRST_ID IDS_PER_THREAD API_KEY
--   ROUTE: barrels (POST /barrels/deliver/sat-ID, 1 ml for 1 gold), checkout (POST /carts/ID/checkout: the
--   bench made the carts) or catalog (GET /catalog/). Thread t numbers its requests from FIRST_ID + t * IDS_PER_THREAD.
-- Prints one line of JSON: the answers by status, and the p99 latency in microseconds.

local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  route, api_key = args[1], args[4]
  next_id = tonumber(args[2]) + index * tonumber(args[3])
  statuses = {}
  headers = { ["Content-Type"] = "application/json", ["access_token"] = api_key }
end

local barrel = '[{"sku":"ONE_RED","ml_per_barrel":1,"potion_type":[1,0,0,0],"price":1,"quantity":1}]'

function request()
  if route == "catalog" then
    return wrk.format("GET", "/catalog/")
  end
  local id = next_id
  next_id = next_id + 1
  if route == "barrels" then
    return wrk.format("POST", "/barrels/deliver/sat-" .. id, headers, barrel)
  end
  return wrk.format("POST", "/carts/" .. id .. "/checkout", headers, '{"payment":"gold"}')
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  io.write(string.format('{"statuses": {%s}, "seconds": %f, "p99_us": %d, "errors": %d, "timeouts": %d}\n',
    table.concat(parts, ", "), summary.duration / 1e6, latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.timeout))
end
