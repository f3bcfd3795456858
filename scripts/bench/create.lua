-- wrk script for the create workload: POST /v1/resources with a 1 KiB random payload as a
-- base64 data URL (built once, the same bytes in every thread), a unique name per request
-- (<prefix>-t<thread>-<counter>).
--   wrk -t2 -c32 -d10s --latency -s create.lua http://127.0.0.1:PORT -- TOKEN PREFIX
local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(n / 262144) % 64
    local c2 = math.floor(n / 4096) % 64
    local c3 = math.floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = b64chars:sub(c1 + 1, c1 + 1) .. b64chars:sub(c2 + 1, c2 + 1) ..
      (b and b64chars:sub(c3 + 1, c3 + 1) or "=") .. (c and b64chars:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

local nthreads = 0
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end

local counter = 0
local head, headers

function init(args)
  local token, prefix = args[1], args[2] or "c"
  math.randomseed(20261123)
  local bytes = {}
  for i = 1, 1024 do bytes[i] = string.char(math.random(0, 255)) end
  local content = "data:application/x-bench;base64," .. base64(table.concat(bytes))
  head = '{"directory_path":"/c/' .. prefix .. '","tags":["bench","create"],"content":"' ..
    content .. '","name":"' .. prefix .. "-t" .. tostring(tid) .. "-"
  headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
end

function request()
  counter = counter + 1
  return wrk.format("POST", "/v1/resources", headers, head .. counter .. '"}')
end
