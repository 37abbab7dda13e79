-- random.lua - measure a reproducible random sample of the space: useful when the model is not trusted
-- for a new arch. The same seed draws the same candidates for a problem on every machine.
problems {
  head_dims = {96, 160},
  dtypes = {"bf16"},
  masks = {"causal"},
  buckets = {{bucket = 8192, seqlen = 8192, batch = 2}},
}
space { block_m = {64, 128}, block_n = {32, 64, 128}, warps = {4, 8}, stages = {1, 2, 3, 4} }
strategy { "random", budget = 10, seed = 42 }
