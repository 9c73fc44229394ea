"""Prints a small float CNN for 28x28 one-channel images as qnnc IR, with
fixed pseudo-random weights: conv 3x3 (8) + relu, max_pool 2x2, conv 3x3
(16) + relu, max_pool 2x2, global_avg_pool, dense 10.  About 0.5 M
multiply-accumulates per image, the size of the Fashion-MNIST example."""
import numpy as np

rng = np.random.default_rng(7)


def const(name, shape, scale):
    v = (rng.standard_normal(shape) * scale).astype(np.float32)
    body = ", ".join("%.6g" % x for x in v.ravel())
    return "  const %%%s : f32[%s] = [%s]" % (name, ",".join(map(str, shape)), body)


lines = ["graph @small_cnn {", "  input %x : f32[1,28,28,1]",
         const("w1", [8, 3, 3, 1], 0.5), const("b1", [8], 0.1),
         const("w2", [16, 3, 3, 8], 0.2), const("b2", [16], 0.1),
         const("w3", [10, 16], 0.3), const("b3", [10], 0.1),
         "  %c1 = conv2d(%x, %w1, %b1) {pads=[1, 1, 1, 1]} : f32[1,28,28,8]",
         "  %r1 = relu(%c1) : f32[1,28,28,8]",
         "  %p1 = max_pool(%r1) {kernel=[2, 2], strides=[2, 2]} : f32[1,14,14,8]",
         "  %c2 = conv2d(%p1, %w2, %b2) {pads=[1, 1, 1, 1]} : f32[1,14,14,16]",
         "  %r2 = relu(%c2) : f32[1,14,14,16]",
         "  %p2 = max_pool(%r2) {kernel=[2, 2], strides=[2, 2]} : f32[1,7,7,16]",
         "  %g = global_avg_pool(%p2) : f32[1,1,1,16]",
         "  %f = reshape(%g) : f32[1,16]",
         "  %y = dense(%f, %w3, %b3) : f32[1,10]",
         "  output %y", "}"]
print("\n".join(lines))
