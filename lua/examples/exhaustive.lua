-- exhaustive.lua - measure every candidate of a small space: the reference the other strategies are
-- judged against. Run: effgen tune --script lua/examples/exhaustive.lua
problems {
  head_dims = {128},
  dtypes = {"bf16"},
  masks = {"none", "causal"},
  buckets = {{bucket = 4096, seqlen = 4096, batch = 4, heads = 16}},
}
space { block_m = {64, 128}, block_n = {32, 64, 128}, warps = {4, 8}, stages = {1, 2, 3} }
strategy "exhaustive"
