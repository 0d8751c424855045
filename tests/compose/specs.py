"""Specs for the composition tests: models used as layers of other models."""

from __future__ import annotations

DATA = """
data points {
    inputs = [[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 2.0, 0.0], [0.0, 1.0, 0.0, 1.0]]
    labels = [0, 1, 1]
}
"""

RESIDUAL = """
model ResBlock(c = 8, hidden = 2 * c) {
    up   = linear(c, hidden)
    down = linear(hidden, c)
    forward(x) {
        return x + down(relu(up(x)))
    }
}

model Net(width = 8, depth = 3) {
    stem   = linear(4, width)
    blocks = repeat(depth) { ResBlock(width) }
    last   = ResBlock(c = width, hidden = 4)
    head   = linear(width, 2)
    forward(x) {
        h = blocks(stem(x))
        return head(last(h))
    }
}
train { model = Net  data = points  loss = cross_entropy }
""" + DATA

LAYERS = """
model Block(c = 6) {
    layers {
        linear(c, c)
        tanh
    }
}

model Stack {
    layers {
        linear(4, 6)
        repeat(2) { Block relu }
        Block(6)
        linear(6, 2)
    }
}
train { model = Stack  data = points  loss = cross_entropy }
""" + DATA

ATTENTION = """
model Mix(d = 4) {
    proj = linear(d, d)
    forward(q, k, v) {
        w = softmax(proj(q) * k, dim = -1)
        return w * v, w
    }
}

model Seq(d = 4) {
    inp = linear(4, 8)
    mix = Mix(d)
    out = linear(8, 2)
    forward(x) {
        h = reshape(inp(x), [-1, 2, d])
        a, w = mix(h, h, h)
        return out(reshape(a + w, [-1, 8]))
    }
}
train { model = Seq  data = points  loss = cross_entropy }
""" + DATA

NESTED = """
model Inner(c = 4) {
    fc = linear(c, c)
    forward(x) {
        return relu(fc(x))
    }
}

model Middle(c = 4) {
    first  = Inner(c)
    second = Inner(c)
    forward(x) {
        return first(x) + second(x)
    }
}

model Outer {
    layers {
        repeat(2) { Middle(4) }
        linear(4, 2)
    }
}
train { model = Outer  data = points  loss = cross_entropy }
""" + DATA

SPECS = {"residual": RESIDUAL, "layers": LAYERS, "attention": ATTENTION, "nested": NESTED}
