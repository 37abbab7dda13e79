-- topk.lua - let the cost model rank the candidates and measure only its k best: a fraction of the
-- exhaustive cost, and within a few percent of its winner when the model ranks well.
problems {
  head_dims = {64, 128, 256},
  dtypes = {"bf16", "fp16"},
  masks = {"none", "causal"},
  buckets = {
    {bucket = 2048, seqlen = 2048, batch = 8},
    {bucket = 16384, seqlen = 16384, batch = 1},
  },
}
space { block_m = {64, 128}, block_n = {32, 64, 128}, warps = {4, 8}, stages = {1, 2, 3} }
-- prune what cannot keep two CTAs per SM busy before ranking
limits { min_occupancy = 1, max_registers = 224 }
strategy { "topk", k = 6 }
