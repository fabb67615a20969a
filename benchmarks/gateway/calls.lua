-- wrk: POST a lookup or a verification of a random key from the keys file (one ID number per line).
local keys = {}
for line in io.lines(os.getenv("BENCH_KEYS")) do keys[#keys + 1] = line end
local path = os.getenv("BENCH_PATH")
local scenario = os.getenv("BENCH_SCENARIO")
local verify = os.getenv("BENCH_MODE") == "verify"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))

request = function()
  local key = keys[math.random(#keys)]
  local body
  if verify then
    body = '{"scenario":' .. scenario .. ',"key":{"公民身份号码":"' .. key .. '"},"values":{"姓名":"王伟"}}'
  else
    body = '{"scenario":' .. scenario .. ',"key":{"公民身份号码":"' .. key .. '"}}'
  end
  return wrk.format(nil, path, nil, body)
end
