;; learn/kernels.wat — the WebAssembly SIMD (f64x2) inner loops of learn/kernels: axpy, dot, the
;; plane rotation of the QL algorithm, and the 4 × 4 register-blocked product behind Gram and
;; cross products. The source of truth: `node --import tsx scripts/build-kernels-wasm.ts`
;; compiles it (with the wabt package) into learn/kernels-wasm.generated.ts, and
;; test/unit/learn-kernels-wasm checks that the committed bytes equal a fresh compile.
;;
;; Pointers are byte offsets into the imported memory (learn/kernels' Arena) and are compared as
;; signed 32-bit integers, so arenas stay below 2 GiB. Every kernel does the same multiply-adds
;; as its JS twin in learn/kernels, two lanes at a time, then the odd element.
(module
  (import "env" "memory" (memory 1))

  ;; y[i] += alpha · x[i] for i < n (BLAS axpy).
  (func (export "axpy") (param $n i32) (param $alpha f64) (param $x i32) (param $y i32)
    (local $alphas v128) (local $endPair i32) (local $end i32)
    (local.set $alphas (f64x2.splat (local.get $alpha)))
    (local.set $endPair (i32.add (local.get $y) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_s (local.get $y) (local.get $endPair)))
        (v128.store (local.get $y)
          (f64x2.add (v128.load (local.get $y)) (f64x2.mul (v128.load (local.get $x)) (local.get $alphas))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $pairs)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_s (local.get $y) (local.get $end)))
        (f64.store (local.get $y)
          (f64.add (f64.load (local.get $y)) (f64.mul (f64.load (local.get $x)) (local.get $alpha))))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (local.set $y (i32.add (local.get $y) (i32.const 8)))
        (br $tail))))

  ;; Σ a[i]·b[i] for i < n: two f64x2 accumulators (four values per step), then a pair, then
  ;; the odd element.
  (func (export "dot") (param $n i32) (param $a i32) (param $b i32) (result f64)
    (local $s0 v128) (local $s1 v128) (local $end4 i32) (local $end2 i32) (local $end i32)
    (local.set $end4 (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (local.set $end2 (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_s (local.get $a) (local.get $end4)))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $s1 (f64x2.add (local.get $s1)
          (f64x2.mul (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (br $quads)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_s (local.get $a) (local.get $end2)))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $pairs)))
    (f64.add
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0)))
        (f64.add (f64x2.extract_lane 0 (local.get $s1)) (f64x2.extract_lane 1 (local.get $s1))))
      ;; the last value when n is odd (a stopped short of end)
      (if (result f64) (i32.lt_s (local.get $a) (local.get $end))
        (then (f64.mul (f64.load (local.get $a)) (f64.load (local.get $b))))
        (else (f64.const 0)))))

  ;; (x, y) ← (c·x − s·y, s·x + c·y) elementwise over n values: the plane rotation of the QL
  ;; algorithm, with the same rounding as the JS loop.
  (func (export "rot") (param $n i32) (param $c f64) (param $s f64) (param $x i32) (param $y i32)
    (local $cs v128) (local $ss v128) (local $xv v128) (local $yv v128)
    (local $endPair i32) (local $end i32) (local $xs f64) (local $ys f64)
    (local.set $cs (f64x2.splat (local.get $c)))
    (local.set $ss (f64x2.splat (local.get $s)))
    (local.set $endPair (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_s (local.get $x) (local.get $endPair)))
        (local.set $xv (v128.load (local.get $x)))
        (local.set $yv (v128.load (local.get $y)))
        (v128.store (local.get $x)
          (f64x2.sub (f64x2.mul (local.get $cs) (local.get $xv)) (f64x2.mul (local.get $ss) (local.get $yv))))
        (v128.store (local.get $y)
          (f64x2.add (f64x2.mul (local.get $ss) (local.get $xv)) (f64x2.mul (local.get $cs) (local.get $yv))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $pairs)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_s (local.get $x) (local.get $end)))
        (local.set $xs (f64.load (local.get $x)))
        (local.set $ys (f64.load (local.get $y)))
        (f64.store (local.get $x)
          (f64.sub (f64.mul (local.get $c) (local.get $xs)) (f64.mul (local.get $s) (local.get $ys))))
        (f64.store (local.get $y)
          (f64.add (f64.mul (local.get $s) (local.get $xs)) (f64.mul (local.get $c) (local.get $ys))))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (local.set $y (i32.add (local.get $y) (i32.const 8)))
        (br $tail))))

  ;; out[r][c] += Σ_k a_r[k]·b_c[k] for r, c < 4 over len values of k, where a_r starts at
  ;; a + r·aStride, b_c at b + c·bStride and out[r][c] at out + r·outStride + 8c (strides in
  ;; bytes). Sixteen f64x2 accumulators: each loaded pair of a feeds four multiply-adds.
  (func (export "block4x4")
    (param $a i32) (param $aStride i32) (param $b i32) (param $bStride i32) (param $len i32)
    (param $out i32) (param $outStride i32)
    (local $k i32) (local $endPair i32) (local $odd i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
    (local $x v128) (local $y0 v128) (local $y1 v128) (local $y2 v128) (local $y3 v128)
    (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128)
    (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
    (local $s20 v128) (local $s21 v128) (local $s22 v128) (local $s23 v128)
    (local $s30 v128) (local $s31 v128) (local $s32 v128) (local $s33 v128)
    (local.set $a0 (local.get $a))
    (local.set $a1 (i32.add (local.get $a0) (local.get $aStride)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $aStride)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $aStride)))
    (local.set $b0 (local.get $b))
    (local.set $b1 (i32.add (local.get $b0) (local.get $bStride)))
    (local.set $b2 (i32.add (local.get $b1) (local.get $bStride)))
    (local.set $b3 (i32.add (local.get $b2) (local.get $bStride)))
    (local.set $endPair (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3)))
    (local.set $odd (i32.and (local.get $len) (i32.const 1)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_s (local.get $k) (local.get $endPair)))
        (local.set $y0 (v128.load (i32.add (local.get $b0) (local.get $k))))
        (local.set $y1 (v128.load (i32.add (local.get $b1) (local.get $k))))
        (local.set $y2 (v128.load (i32.add (local.get $b2) (local.get $k))))
        (local.set $y3 (v128.load (i32.add (local.get $b3) (local.get $k))))
        (local.set $x (v128.load (i32.add (local.get $a0) (local.get $k))))
        (local.set $s00 (f64x2.add (local.get $s00) (f64x2.mul (local.get $x) (local.get $y0))))
        (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (local.get $x) (local.get $y1))))
        (local.set $s02 (f64x2.add (local.get $s02) (f64x2.mul (local.get $x) (local.get $y2))))
        (local.set $s03 (f64x2.add (local.get $s03) (f64x2.mul (local.get $x) (local.get $y3))))
        (local.set $x (v128.load (i32.add (local.get $a1) (local.get $k))))
        (local.set $s10 (f64x2.add (local.get $s10) (f64x2.mul (local.get $x) (local.get $y0))))
        (local.set $s11 (f64x2.add (local.get $s11) (f64x2.mul (local.get $x) (local.get $y1))))
        (local.set $s12 (f64x2.add (local.get $s12) (f64x2.mul (local.get $x) (local.get $y2))))
        (local.set $s13 (f64x2.add (local.get $s13) (f64x2.mul (local.get $x) (local.get $y3))))
        (local.set $x (v128.load (i32.add (local.get $a2) (local.get $k))))
        (local.set $s20 (f64x2.add (local.get $s20) (f64x2.mul (local.get $x) (local.get $y0))))
        (local.set $s21 (f64x2.add (local.get $s21) (f64x2.mul (local.get $x) (local.get $y1))))
        (local.set $s22 (f64x2.add (local.get $s22) (f64x2.mul (local.get $x) (local.get $y2))))
        (local.set $s23 (f64x2.add (local.get $s23) (f64x2.mul (local.get $x) (local.get $y3))))
        (local.set $x (v128.load (i32.add (local.get $a3) (local.get $k))))
        (local.set $s30 (f64x2.add (local.get $s30) (f64x2.mul (local.get $x) (local.get $y0))))
        (local.set $s31 (f64x2.add (local.get $s31) (f64x2.mul (local.get $x) (local.get $y1))))
        (local.set $s32 (f64x2.add (local.get $s32) (f64x2.mul (local.get $x) (local.get $y2))))
        (local.set $s33 (f64x2.add (local.get $s33) (f64x2.mul (local.get $x) (local.get $y3))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $pairs)))
    ;; $k now points at the odd last value of every row, if len is odd.
    (local.set $a0 (i32.add (local.get $a0) (local.get $k)))
    (local.set $a1 (i32.add (local.get $a1) (local.get $k)))
    (local.set $a2 (i32.add (local.get $a2) (local.get $k)))
    (local.set $a3 (i32.add (local.get $a3) (local.get $k)))
    (local.set $b0 (i32.add (local.get $b0) (local.get $k)))
    (local.set $b1 (i32.add (local.get $b1) (local.get $k)))
    (local.set $b2 (i32.add (local.get $b2) (local.get $k)))
    (local.set $b3 (i32.add (local.get $b3) (local.get $k)))
    (local.set $o0 (local.get $out))
    (local.set $o1 (i32.add (local.get $o0) (local.get $outStride)))
    (local.set $o2 (i32.add (local.get $o1) (local.get $outStride)))
    (local.set $o3 (i32.add (local.get $o2) (local.get $outStride)))
    (call $addSum (local.get $o0) (local.get $s00) (local.get $odd) (local.get $a0) (local.get $b0))
    (call $addSum (i32.add (local.get $o0) (i32.const 8)) (local.get $s01) (local.get $odd) (local.get $a0) (local.get $b1))
    (call $addSum (i32.add (local.get $o0) (i32.const 16)) (local.get $s02) (local.get $odd) (local.get $a0) (local.get $b2))
    (call $addSum (i32.add (local.get $o0) (i32.const 24)) (local.get $s03) (local.get $odd) (local.get $a0) (local.get $b3))
    (call $addSum (local.get $o1) (local.get $s10) (local.get $odd) (local.get $a1) (local.get $b0))
    (call $addSum (i32.add (local.get $o1) (i32.const 8)) (local.get $s11) (local.get $odd) (local.get $a1) (local.get $b1))
    (call $addSum (i32.add (local.get $o1) (i32.const 16)) (local.get $s12) (local.get $odd) (local.get $a1) (local.get $b2))
    (call $addSum (i32.add (local.get $o1) (i32.const 24)) (local.get $s13) (local.get $odd) (local.get $a1) (local.get $b3))
    (call $addSum (local.get $o2) (local.get $s20) (local.get $odd) (local.get $a2) (local.get $b0))
    (call $addSum (i32.add (local.get $o2) (i32.const 8)) (local.get $s21) (local.get $odd) (local.get $a2) (local.get $b1))
    (call $addSum (i32.add (local.get $o2) (i32.const 16)) (local.get $s22) (local.get $odd) (local.get $a2) (local.get $b2))
    (call $addSum (i32.add (local.get $o2) (i32.const 24)) (local.get $s23) (local.get $odd) (local.get $a2) (local.get $b3))
    (call $addSum (local.get $o3) (local.get $s30) (local.get $odd) (local.get $a3) (local.get $b0))
    (call $addSum (i32.add (local.get $o3) (i32.const 8)) (local.get $s31) (local.get $odd) (local.get $a3) (local.get $b1))
    (call $addSum (i32.add (local.get $o3) (i32.const 16)) (local.get $s32) (local.get $odd) (local.get $a3) (local.get $b2))
    (call $addSum (i32.add (local.get $o3) (i32.const 24)) (local.get $s33) (local.get $odd) (local.get $a3) (local.get $b3)))

  ;; *target += lane 0 + lane 1 of sums, plus (*a)·(*b) when odd (the last k of an odd length).
  (func $addSum (param $target i32) (param $sums v128) (param $odd i32) (param $a i32) (param $b i32)
    (f64.store (local.get $target)
      (f64.add
        (f64.add
          (f64.add (f64.load (local.get $target)) (f64x2.extract_lane 0 (local.get $sums)))
          (f64x2.extract_lane 1 (local.get $sums)))
        (if (result f64) (local.get $odd)
          (then (f64.mul (f64.load (local.get $a)) (f64.load (local.get $b))))
          (else (f64.const 0)))))))
