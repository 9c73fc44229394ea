"""Writes the 16x8 accumulator-bound graphs of accum-overflow-16x8.test.

dense x[1,K] (i16, zero point 0: x in [-32768, 32767]) by w[2,K] (i8, every
weight 127).  Channel 1 has bias -200000.  The smallest accumulator is
K * 127 * -32768 + bias:
  K = 516: channel 0  -2147352576 fits, channel 1 -2147552576 does not;
  K = 515: channel 1  -2143190912 + ... fits too.
The input x is a constant holding -32768 everywhere, the worst case, so
the interpreter shows the bound is reached, not just feared.
"""
import sys

mode = sys.argv[1]
K = {"fits": 515, "overflow": 516, "narrowed": 516}[mode]
w = ", ".join(["127"] * (2 * K))
print(f"graph @{mode} {{")
if mode == "narrowed":
    # The producer's folded clamp [0, 16384] (a fused relu with act_max)
    # is what the dense can see: 516 * 127 * 16384 fits easily.
    print(f"  input %in : i16[1,{K}] q(1, 0)")
    print(f"  %x = add(%in, %in) {{act_min=0, act_max=16384, qmin=0, qmax=16384}} : i16[1,{K}] q(1, 0)")
else:
    xs = ", ".join(["-32768"] * K)
    print(f"  const %x : i16[1,{K}] q(1, 0) = [{xs}]")
print(f"  const %w : i8[2,{K}] q(0.5, 0) = [{w}]")
print("  const %b : i32[2] = [0, -200000]")
print(f"  %y = dense(%x, %w, %b) : i16[1,2] q(4e9, 0)")
print("  output %y")
print("}")
