-- custom.lua - a strategy written in Lua: walk the candidates in the model's order and stop once three
-- measurements in a row fail to beat the best so far (a patience search). api.measure(config) compiles,
-- checks and times one candidate and returns its median milliseconds, or nil and the reason it failed.
problems {
  head_dims = {128},
  dtypes = {"bf16", "fp16"},
  masks = {"none"},
  buckets = {{bucket = 4096, seqlen = 4096, batch = 4}},
}
space { block_m = {64, 128}, block_n = {32, 64, 128}, warps = {4, 8}, stages = {1, 2, 3} }

strategy(function(problem, candidates, api)
  table.sort(candidates, function(a, b) return api.estimate(a) < api.estimate(b) end)
  local best, best_ms, misses = nil, math.huge, 0
  for _, c in ipairs(candidates) do
    local ms, why = api.measure(c)
    if ms and ms < best_ms then
      best, best_ms, misses = c, ms, 0
    else
      if not ms then print(problem.spec .. " " .. c.key .. ": " .. why) end
      misses = misses + 1
      if misses >= 3 and best then break end
    end
  end
  return best
end)
