-- wrk script for the uncached list: the URL's query plus a parameter depot ignores, `bust`,
-- with a value that differs on every request. depotd's per-account cache of whole list answers
-- is keyed by the query string, so it never serves one; the filters, and with them the cached
-- total of the matching rows, stay the same, as when a client pages through one listing.
--   wrk -t2 -c32 -d10s --latency -s list_uncached.lua 'http://127.0.0.1:PORT/v1/resources?...'
local nthreads = 0
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end

local counter = 0
function request()
  counter = counter + 1
  return wrk.format("GET", wrk.path .. "&bust=" .. tid .. "-" .. counter)
end
