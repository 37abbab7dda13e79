-- default.lua - the default tuning set of `effgen tune` and `effgen pack`: the head dims people use,
-- bf16 and fp16, with and without a causal mask, in three sequence-length buckets. Each bucket is timed
-- on a representative problem of 16k tokens (B*N) and H*D = 2048, the shapes of the FlashAttention
-- benchmarks. Sized for a ten-minute tune on an H100 (84 problems, about 2400 timings and 800
-- compiles; an estimate until measured). See docs/tuning.md for the language.

problems {
  head_dims = {64, 80, 96, 128, 160, 192, 256},
  dtypes = {"bf16", "fp16"},
  masks = {"none", "causal"},
  buckets = {
    {bucket = 1024, seqlen = 1024, batch = 16},  -- serves seqlen_k <= 1024
    {bucket = 4096, seqlen = 4096, batch = 4},   -- 1025 .. 4096
    {bucket = 16384, seqlen = 16384, batch = 1}, -- longer (the largest bucket serves everything beyond)
  },
}

-- block_m/warps >= 16 and the arch's shared memory are checked by effgen itself. dsplit 2 adds the
-- layout with warps in pairs (".d2": head dims that are multiples of 32, block_m = 16 * warps).
space {
  block_m = {64, 128},
  block_n = {32, 64, 128},
  warps = {4, 8},
  stages = {1, 2, 3},
  dsplit = {0, 2},
}

-- The Hopper warpgroup family (wgmma + TMA): its candidates join where the target is sm_90a (the default
-- on a compute capability 9.0 GPU) and the spec is one it implements (head dims 64, 128 and 256, no
-- variant); up to 12 more per spec, those that fit the registers and shared memory.
wg_space {
  consumers = {1, 2, 3},
  block_n = {64, 128},
  stages = {2, 3},
}

-- Every candidate must fit at least one CTA per SM by the model's register and shared-memory count.
limits { min_occupancy = 1 }

-- Beyond about 224 registers per thread (the model's estimate) the accumulators spill: not worth
-- compiling.
constraint(function(p, c)
  return effgen.registers(p, c) <= 224
end)

strategy "exhaustive"
