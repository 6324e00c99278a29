-- Paces each wrk connection to one request every GAP_MS milliseconds
-- (bench/serve/run.sh sets it), so CONNECTIONS * 1000 / GAP_MS requests/s.
local gap = tonumber(os.getenv("GAP_MS")) or 10
function delay()
  return gap
end
