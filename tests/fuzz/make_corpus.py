#!/usr/bin/env python3
"""make_corpus.py - writes the seed corpus of fuzz_ops (tests/fuzz/corpus/):
every op on both backends in both dtypes and all four value encodings, and
cases for each kind of invalid argument. The encoding is described at the top
of fuzz_ops.c. Deterministic: rerunning rewrites the same files. Files named
regress-* are inputs the fuzzer once failed on, added by hand: they are kept."""
import os
import random

OPS = {"pad": 0, "conv_fwd": 1, "conv_bwd": 2, "pool_fwd": 3, "pool_bwd": 4, "conv_shape": 5, "pool_shape": 6}
FAULTS = {None: 0, "null": 1, "alias": 2, "dtype": 3, "ctx": 4, "null_ctx": 5}
BIG = {64: 0, 100: 1, 1000: 2, 65535: 3, 1 << 20: 4, 1 << 30: 5, 2**31 - 1: 9, -2**31: 10}


def dim(d):
    assert -7 <= d <= 7
    return (0x80 | -d) if d < 0 else d


def scalar(v):
    if -16 <= v <= 63:
        return v & 0xFF
    return 0x40 | BIG[v]  # 0x40..0x4F: (int8_t) 64..79, outside -16..63


def enum(v, n):
    return v if 0 <= v < n else 0xC0 | {n: 0, n + 1: 1, -1: 2, -2: 3, 255: 4}[v]


def values(rng, count, vmode, f64):
    out = bytearray()
    for _ in range(count):
        if vmode == 0:
            out.append(rng.randrange(-7, 8) & 0xFF)
        elif vmode == 1:
            out.append(rng.choice([0x80, 0x81, 0x82, 0x83]) if rng.random() < 0.12 else rng.randrange(-7, 8) & 0xFF)
        elif vmode == 2:
            out += rng.randrange(-32768, 32768).to_bytes(2, "little", signed=True)
        else:
            import struct
            x = rng.gauss(0, 1) * 10 ** rng.randrange(-3, 4)
            out += struct.pack("<d" if f64 else "<f", x)
    return out


def case(op, backend=0, f64=0, vmode=0, fault=None, fslot=0, a=(1, 4, 4, 2), conv=None, pool=None, pad=0,
         override=None, nvals=None, seed=0):
    """override: {slot: (n, h, w, c)}; conv = (fh, fw, cout, stride, pad, algo, sel);
    pool = (f, stride, mode)."""
    rng = random.Random(seed)
    b = bytearray([OPS[op] << 2 | f64 << 1 | backend, vmode | FAULTS[fault] << 2 | (fslot & 7) << 5])
    b += bytes(dim(d) for d in a)
    count = a[0] * a[1] * a[2] * a[3]
    if op == "pad":
        b.append(scalar(pad))
        count *= 2 + 4 * max(pad, 0)
    elif op.startswith("conv"):
        fh, fw, cout, stride, p, algo, sel = conv
        b += bytes([dim(fh), dim(fw), dim(cout), scalar(stride), scalar(p), enum(algo, 3), sel])
        count = 3 * count * max(cout, 1) + 3 * fh * fw * max(a[3], 1) * max(cout, 1) + 16
    else:
        f, stride, mode = pool
        b += bytes([dim(f), scalar(stride), enum(mode, 2)])
        count *= 3
    mask = 0
    extra = bytearray()
    for s, d in sorted((override or {}).items()):
        mask |= 1 << s
        extra += bytes(dim(x) for x in d)
    b.append(mask)
    b += extra
    b += values(rng, nvals if nvals is not None else count, vmode, f64)
    return bytes(b)


def shape_case(op, a, w=None, stride=1, pad=0, f=2, algo=0, mode=0, fault=None, fslot=0):
    b = bytearray([OPS[op] << 2, FAULTS[fault] << 2 | (fslot & 7) << 5])
    b += bytes(scalar(x) for x in a)
    if op == "conv_shape":
        b += bytes(scalar(x) for x in w)
        b += bytes([scalar(stride), scalar(pad), enum(algo, 3)])
    else:
        b += bytes([scalar(f), scalar(stride), enum(mode, 2)])
    return bytes(b)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "corpus")
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        if not name.startswith("regress-"):
            os.remove(os.path.join(out, name))
    files = {}
    i = 0
    # Every op x backend x dtype, the value encodings in turn.
    for backend in (0, 1):
        for f64 in (0, 1):
            tag = ("cl" if backend else "host") + ("-f64" if f64 else "-f32")
            for op in ("pad", "conv_fwd", "conv_bwd", "pool_fwd", "pool_bwd"):
                vmode = i % 4
                i += 1
                kw = dict(backend=backend, f64=f64, vmode=vmode, seed=i)
                name = f"{op}-{tag}-v{vmode}"
                if op == "pad":
                    files[name] = case(op, a=(2, 3, 3, 2), pad=1 + f64, **kw)
                elif op == "conv_fwd":
                    files[name] = case(op, a=(2, 5, 4, 3), conv=(3, 2, 2, 2, 1, backend + f64, 1), **kw)
                elif op == "conv_bwd":
                    files[name] = case(op, a=(1, 4, 5, 2), conv=(2, 3, 3, 1 + f64, f64, 0, 7), **kw)
                elif op == "pool_fwd":
                    files[name] = case(op, a=(2, 4, 5, 3), pool=(2, 2 - f64, f64), **kw)
                else:
                    files[name] = case(op, a=(1, 5, 5, 2), pool=(3, 1 + f64, 1 - f64), **kw)
    # Special values, ties, algorithms, optional outputs, odd shapes.
    files["pool_fwd-cl-f32-nan"] = case("pool_fwd", 1, 0, 1, a=(1, 4, 4, 3), pool=(2, 1, 0), seed=101)
    files["pool_bwd-cl-f32-nan"] = case("pool_bwd", 1, 0, 1, a=(1, 4, 4, 3), pool=(2, 1, 0), seed=102)
    files["pool_bwd-cl-f64-ties"] = case("pool_bwd", 1, 1, 0, a=(1, 4, 4, 1), pool=(2, 1, 0), nvals=0) + bytes([2] * 9) + bytes([1] * 16)
    files["pool_bwd-host-f32-ties"] = case("pool_bwd", 0, 0, 0, a=(1, 3, 3, 1), pool=(2, 1, 0), nvals=0) + bytes([1] * 4) + bytes(9)
    files["conv_fwd-cl-f32-inf"] = case("conv_fwd", 1, 0, 1, a=(1, 3, 3, 2), conv=(3, 3, 2, 1, 1, 0, 1), seed=103)
    files["conv_bwd-host-f64-inf"] = case("conv_bwd", 0, 1, 1, a=(1, 3, 3, 2), conv=(2, 2, 2, 1, 1, 0, 7), seed=104)
    files["conv_fwd-cl-f32-gemm"] = case("conv_fwd", 1, 0, 0, a=(2, 6, 6, 4), conv=(3, 3, 5, 1, 1, 2, 1), seed=105)
    files["conv_fwd-cl-f64-direct"] = case("conv_fwd", 1, 1, 2, a=(1, 6, 5, 3), conv=(1, 1, 4, 1, 0, 1, 0), seed=106)
    files["conv_fwd-cl-f32-bigpad"] = case("conv_fwd", 1, 0, 0, a=(1, 2, 2, 1), conv=(5, 4, 1, 3, 3, 0, 1), seed=107)
    files["conv_bwd-cl-f32-da-only"] = case("conv_bwd", 1, 0, 0, a=(2, 5, 5, 2), conv=(3, 3, 2, 2, 1, 0, 1), seed=108)
    files["conv_bwd-cl-f64-dw-db"] = case("conv_bwd", 1, 1, 3, a=(1, 5, 4, 3), conv=(2, 2, 2, 3, 2, 0, 6), seed=109)
    files["conv_bwd-cl-f32-none"] = case("conv_bwd", 1, 0, 0, a=(1, 3, 3, 1), conv=(2, 2, 1, 1, 0, 0, 0), seed=110)
    files["pool_fwd-cl-f64-avg-raw"] = case("pool_fwd", 1, 1, 3, a=(1, 7, 7, 2), pool=(3, 2, 1), seed=111)
    files["pad-cl-f32-pad0"] = case("pad", 1, 0, 1, a=(1, 2, 3, 4), pad=0, seed=112)
    # Invalid arguments.
    files["bad-conv-stride0"] = case("conv_fwd", 1, 0, 0, a=(1, 4, 4, 1), conv=(2, 2, 1, 0, 0, 0, 1), seed=201)
    files["bad-conv-pad-neg"] = case("conv_bwd", 0, 0, 0, a=(1, 4, 4, 1), conv=(2, 2, 1, 1, -1, 0, 7), seed=202)
    files["bad-conv-algo"] = case("conv_fwd", 0, 1, 0, a=(1, 4, 4, 1), conv=(2, 2, 1, 1, 0, 3, 1), seed=203)
    files["bad-conv-pad-intmax"] = case("conv_fwd", 1, 0, 0, a=(1, 4, 4, 1), conv=(2, 2, 1, 1, 2**31 - 1, 0, 0), seed=204)
    files["bad-conv-cin"] = case("conv_fwd", 1, 0, 0, a=(1, 4, 4, 2), conv=(2, 2, 1, 1, 0, 0, 0), override={1: (2, 2, 3, 1)}, seed=205)
    files["bad-conv-z-shape"] = case("conv_fwd", 0, 0, 0, a=(1, 4, 4, 2), conv=(2, 2, 1, 1, 0, 0, 1), override={3: (1, 2, 2, 1)}, seed=206)
    files["bad-conv-window"] = case("conv_bwd", 1, 1, 0, a=(1, 2, 2, 1), conv=(3, 3, 1, 1, 0, 0, 7), seed=207)
    files["bad-conv-bias"] = case("conv_fwd", 0, 0, 0, a=(1, 3, 3, 1), conv=(2, 2, 2, 1, 0, 0, 1), override={2: (1, 1, 1, 3)}, seed=208)
    files["bad-pad-neg"] = case("pad", 1, 0, 0, a=(1, 2, 2, 1), pad=-1, seed=209)
    files["bad-pad-shape"] = case("pad", 0, 1, 0, a=(1, 2, 2, 1), pad=1, override={1: (1, 4, 3, 1)}, seed=210)
    files["bad-pool-mode"] = case("pool_fwd", 1, 0, 0, a=(1, 4, 4, 1), pool=(2, 2, -1), seed=211)
    files["bad-pool-f-too-big"] = case("pool_bwd", 0, 0, 0, a=(1, 3, 3, 1), pool=(4, 1, 0), seed=212)
    files["bad-pool-stride-neg"] = case("pool_fwd", 0, 1, 0, a=(1, 3, 3, 1), pool=(2, -2, 1), seed=213)
    files["bad-pool-da-shape"] = case("pool_bwd", 1, 1, 0, a=(1, 4, 4, 1), pool=(2, 2, 0), override={0: (1, 3, 2, 1)}, seed=214)
    files["bad-tensor-dim0"] = case("pool_fwd", 1, 0, 0, a=(1, 0, 4, 1), pool=(2, 2, 0), seed=215)
    files["bad-tensor-dim-neg"] = case("conv_fwd", 0, 0, 0, a=(1, 4, 4, -3), conv=(2, 2, 1, 1, 0, 0, 1), seed=216)
    files["bad-fault-null"] = case("conv_bwd", 1, 0, 0, "null", 2, a=(1, 4, 4, 1), conv=(2, 2, 1, 1, 0, 0, 7), seed=217)
    files["bad-fault-null-optional"] = case("conv_fwd", 1, 0, 0, "null", 2, a=(1, 4, 4, 1), conv=(2, 2, 1, 1, 0, 0, 1), seed=218)
    files["bad-fault-alias"] = case("pool_bwd", 1, 0, 0, "alias", 2, a=(1, 4, 4, 1), pool=(2, 2, 1), seed=219)
    files["bad-fault-alias-inputs"] = case("conv_fwd", 0, 0, 0, "alias", 0, a=(2, 2, 2, 2), conv=(2, 2, 2, 1, 0, 0, 1), seed=220)
    files["bad-fault-dtype"] = case("conv_fwd", 1, 0, 0, "dtype", 1, a=(1, 4, 4, 1), conv=(2, 2, 1, 1, 0, 0, 1), seed=221)
    files["bad-fault-ctx"] = case("pad", 1, 1, 0, "ctx", 1, a=(1, 2, 2, 1), pad=1, seed=222)
    files["bad-fault-null-ctx"] = case("pool_fwd", 0, 0, 0, "null_ctx", 0, a=(1, 4, 4, 1), pool=(2, 2, 0), seed=223)
    # The output-shape functions.
    files["shape-conv-ok"] = shape_case("conv_shape", (10, 5, 7, 4), (3, 3, 4, 8), stride=2, pad=1)
    files["shape-conv-overflow"] = shape_case("conv_shape", (1, 5, 5, 1), (3, 3, 1, 1), stride=1, pad=2**31 - 1)
    files["shape-conv-window"] = shape_case("conv_shape", (1, 2, 2, 1), (5, 1, 1, 1), stride=1, pad=1)
    files["shape-conv-dims-neg"] = shape_case("conv_shape", (1, -3, 4, 1), (1, 1, 1, 1))
    files["shape-conv-null"] = shape_case("conv_shape", (1, 5, 5, 1), (3, 3, 1, 1), fault="null", fslot=2)
    files["shape-pool-ok"] = shape_case("pool_shape", (2, 1000, 65535, 3), f=64, stride=100)
    files["shape-pool-f-big"] = shape_case("pool_shape", (1, 4, 4, 1), f=5, stride=1)
    files["shape-pool-mode"] = shape_case("pool_shape", (1, 4, 4, 1), f=2, stride=2, mode=2)
    total = 0
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)
        total += len(data)
    print(f"make_corpus: {len(files)} files, {total} bytes in {out}")


if __name__ == "__main__":
    main()
