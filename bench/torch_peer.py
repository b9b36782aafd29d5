#!/usr/bin/env python3
"""torch_peer.py - the PyTorch (cuDNN) peer column for clcnn-bench.

One long file on purpose: gpu-check.sh carries it to the GPU machine and
runs it there with nothing but PyTorch, so it imports nothing from the
repository.

Reads the JSON files clcnn-bench wrote (--json), and runs every convolution
row (conv_fwd, conv_bwd_data, conv_bwd_filter) and pooling row (pool_fwd,
pool_bwd, max and avg) through PyTorch on the CUDA GPU, with the row's exact
shape: F32, TF32 off (cuDNN and matmul), tensors in torch.channels_last.

  conv_fwd         F.conv2d(x, w, b, stride, pad)                (bias included)
  conv_bwd_data    aten.convolution_backward, mask (dx)            = nn.grad.conv2d_input
  conv_bwd_filter  aten.convolution_backward, mask (dw, db)        = nn.grad.conv2d_weight + db
  pool_fwd         F.max_pool2d / F.avg_pool2d
  pool_bwd         autograd.grad of the pooling (max: the saved indices)

convolution_backward is the call autograd makes for conv2d; where this
PyTorch lacks it, torch.nn.grad.conv2d_input / conv2d_weight (+ the bias
gradient as a sum) are used instead, and the JSON's "api" says which.

Timing: warm-up calls, then up to --reps calls, each between two CUDA events
(GPU time from the first event to the second), median and minimum. Rows with
the same shape and op are measured once. Throughput uses the clcnn row's own
flops / bytes, so the columns compare like with like.

Writes torch.csv and torch.json into --out-dir and prints a table: layer, op,
clcnn device kernel median, torch median, and their ratio (clcnn / torch).

Exit status: 0 every row measured; 1 some row failed; 2 bad arguments or
unreadable input; 3 no PyTorch or no CUDA device (the dry run's "skip").

  python3 bench/torch_peer.py --out-dir DIR resnet.json peers.json
  python3 bench/torch_peer.py --self-test [clcnn-bench.json ...]   (no torch needed)
  python3 bench/torch_peer.py --device cpu --batch 1 ...  (the same calls on the CPU, to try
                                                           the script without a GPU; not a peer)
"""

import argparse
import csv
import datetime
import json
import os
import statistics
import sys
import tempfile
import time

EXIT_OK, EXIT_ROW_FAILED, EXIT_USAGE, EXIT_NO_CUDA = 0, 1, 2, 3

CONV_OPS = ("conv_fwd", "conv_bwd_data", "conv_bwd_filter")
POOL_OPS = ("pool_fwd", "pool_bwd")
POOL_MODES = ("max", "avg")
SHAPE_KEYS = ("n", "h", "w", "c", "fh", "fw", "cout", "f", "stride", "pad")
ROW_KEYS = ("suite", "layer", "kind", "op", "mode") + SHAPE_KEYS + ("ho", "wo", "flops", "bytes")

CSV_FIELDS = ["suite", "layer", "kind", "op", "mode", "n", "h", "w", "c", "fh", "fw", "cout", "f", "stride",
              "pad", "ho", "wo", "flops", "bytes", "reps", "torch_median_s", "torch_min_s", "torch_gflops",
              "torch_gbs", "clcnn_device_kernel_median_s", "clcnn_device_wall_median_s", "ratio", "api",
              "shared_with", "error"]


# ---- rows: selection, shapes, work ------------------------------------------

def out_size(n, f, stride, pad):
    """clcnn's (and PyTorch's) output size: floor((n - f + 2 pad) / stride) + 1."""
    return (n - f + 2 * pad) // stride + 1


def as_int(row, key, default=0):
    v = row.get(key)
    return default if v is None else int(v)


def selectable(row):
    """True for the rows torch_peer runs: convolution and pooling ops."""
    kind, op = row.get("kind"), row.get("op")
    if kind == "conv":
        return op in CONV_OPS
    if kind == "pool":
        return op in POOL_OPS and row.get("mode") in POOL_MODES
    return False


def shape_of(row):
    """The output size the row's shape gives (ho, wo)."""
    if row["kind"] == "conv":
        return (out_size(as_int(row, "h"), as_int(row, "fh"), as_int(row, "stride"), as_int(row, "pad")),
                out_size(as_int(row, "w"), as_int(row, "fw"), as_int(row, "stride"), as_int(row, "pad")))
    f = as_int(row, "f")
    return (out_size(as_int(row, "h"), f, as_int(row, "stride"), as_int(row, "pad")),
            out_size(as_int(row, "w"), f, as_int(row, "stride"), as_int(row, "pad")))


def conv_flops(row):
    """2 N Ho Wo Cout fh fw Cin: bench.h's count for every convolution direction."""
    ho, wo = shape_of(row)
    return 2.0 * as_int(row, "n") * ho * wo * as_int(row, "cout") * as_int(row, "fh") * as_int(row, "fw") \
        * as_int(row, "c")


def work_of(row):
    """(flops, bytes) for the throughput columns: the clcnn row's own figures
    where it has them, else flops computed from the shape (bytes stay None)."""
    flops, nbytes = row.get("flops"), row.get("bytes")
    if row["kind"] == "conv" and not flops:
        flops = conv_flops(row)
    return (float(flops) if flops else None, float(nbytes) if nbytes else None)


def with_batch(row, batch):
    """The row at another batch, its flops and bytes scaled to match."""
    n = as_int(row, "n")
    out = dict(row, n=batch)
    if row.get("bytes"):
        out["bytes"] = float(row["bytes"]) * batch / n
    if row["kind"] == "conv":
        out["flops"] = conv_flops(out)
    for k in ("device_kernel_median_s", "device_wall_median_s"):
        out[k] = None  # clcnn measured another batch
    return out


def key_of(row):
    return (row["kind"], row["op"], row.get("mode")) + tuple(as_int(row, k) for k in SHAPE_KEYS)


def load_rows(paths):
    """Every selectable row of the clcnn-bench JSON files, in file order, and
    the files' headers. Raises ValueError on a file that is not such JSON."""
    rows, headers = [], []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
            raise ValueError("%s: no \"rows\" list (not clcnn-bench --json output)" % path)
        headers.append({k: doc.get(k) for k in ("tool", "version", "date", "device", "dtype", "reps",
                                                 "budget_s", "command")} | {"file": path})
        for i, r in enumerate(doc["rows"]):
            missing = [k for k in ("kind", "op") + SHAPE_KEYS[:4] if k not in r]
            if missing:
                raise ValueError("%s: row %d lacks %s" % (path, i, ", ".join(missing)))
            if selectable(r):
                rows.append(r)
    return rows, headers


# ---- output --------------------------------------------------------------------

def gflops(flops, s):
    return flops / s / 1e9 if flops and s else None


def fmt_ms(s):
    return "%10.3f" % (s * 1e3) if isinstance(s, (int, float)) and s > 0 else "%10s" % "-"


def fmt_x(v):
    return "%8.2f" % v if isinstance(v, (int, float)) and v > 0 else "%8s" % "-"


def result_row(row, res):
    """The output record of one clcnn row and its torch measurement `res`."""
    flops, nbytes = work_of(row)
    ho, wo = shape_of(row)
    med = res.get("median")
    clk = row.get("device_kernel_median_s")
    out = {k: row.get(k) for k in ("suite", "layer", "kind", "op", "mode") + SHAPE_KEYS}
    out.update({
        "ho": row.get("ho", ho), "wo": row.get("wo", wo), "flops": flops, "bytes": nbytes,
        "reps": res.get("reps"), "torch_median_s": med, "torch_min_s": res.get("min"),
        "torch_gflops": gflops(flops, med), "torch_gbs": nbytes / med / 1e9 if nbytes and med else None,
        "clcnn_device_kernel_median_s": clk,
        "clcnn_device_wall_median_s": row.get("device_wall_median_s"),
        "ratio": clk / med if clk and med else None,
        "api": res.get("api"), "shared_with": res.get("shared_with"), "error": res.get("error") or "",
    })
    return out


def table(results):
    """The comparison table: clcnn's device kernel median against torch's."""
    lines = ["%-28s %-16s %10s %10s %8s %10s" % ("layer", "op", "clcnn ms", "torch ms", "ratio", "torch GF/s"),
             "-" * 87]
    for r in results:
        name = "%s/%s" % (r["suite"], r["layer"])
        op = r["op"] + ("(%s)" % r["mode"] if r.get("mode") else "")
        gf = r.get("torch_gflops")
        gb = r.get("torch_gbs")
        thr = "%10.1f" % gf if gf else ("%8.1fGB" % gb if gb else "%10s" % "-")
        line = "%-28s %-16s %s %s %s %s" % (name[:28], op[:16], fmt_ms(r["clcnn_device_kernel_median_s"]),
                                             fmt_ms(r["torch_median_s"]), fmt_x(r["ratio"]), thr)
        if r.get("error"):
            line += "  ! " + r["error"]
        lines.append(line)
    lines.append("ratio = clcnn device kernel median / torch median (above 1: torch is faster); "
                 "GB = GB/s for pooling")
    return "\n".join(lines)


def write_outputs(out_dir, meta, results):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "torch.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in results:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in CSV_FIELDS})
    with open(os.path.join(out_dir, "torch.json"), "w", encoding="utf-8") as f:
        json.dump(dict(meta, rows=results), f, indent=1)
        f.write("\n")


# ---- measuring with torch ------------------------------------------------------

class Peer:
    """The torch side: tensors for one row, and the timed call."""

    def __init__(self, torch, args):
        self.torch = torch
        self.F = torch.nn.functional
        self.dev = torch.device(args.device)
        self.cuda = self.dev.type == "cuda"
        self.args = args
        self.cl = torch.channels_last
        self.conv_bwd = getattr(torch.ops.aten, "convolution_backward", None)

    def randn(self, *shape, cl=True):
        t = self.torch.randn(*shape, device=self.dev, dtype=self.torch.float32)
        return t.contiguous(memory_format=self.cl) if cl and len(shape) == 4 else t

    def make_call(self, row):
        """(callable, api) running the row's op once; checks the output size."""
        torch, F = self.torch, self.F
        n, h, w, c = (as_int(row, k) for k in ("n", "h", "w", "c"))
        stride, pad = as_int(row, "stride", 1), as_int(row, "pad")
        ho, wo = shape_of(row)
        op = row["op"]
        if row["kind"] == "conv":
            cout, fh, fw = as_int(row, "cout"), as_int(row, "fh"), as_int(row, "fw")
            x, wt, b = self.randn(n, c, h, w), self.randn(cout, c, fh, fw), self.randn(cout)
            y = F.conv2d(x, wt, b, stride, pad)
            if tuple(y.shape) != (n, cout, ho, wo):
                raise RuntimeError("torch output %s, clcnn's shape gives %s" % (tuple(y.shape), (n, cout, ho, wo)))
            if op == "conv_fwd":
                return (lambda: F.conv2d(x, wt, b, stride, pad)), "F.conv2d"
            gy = self.randn(n, cout, ho, wo)
            if self.conv_bwd is not None:
                cb = self.conv_bwd
                if op == "conv_bwd_data":
                    mask = [True, False, False]
                    return (lambda: cb(gy, x, wt, None, [stride] * 2, [pad] * 2, [1, 1], False, [0, 0], 1,
                                       mask)), "aten.convolution_backward(dx)"
                mask = [False, True, True]
                return (lambda: cb(gy, x, wt, [cout], [stride] * 2, [pad] * 2, [1, 1], False, [0, 0], 1,
                                   mask)), "aten.convolution_backward(dw,db)"
            if op == "conv_bwd_data":
                return (lambda: torch.nn.grad.conv2d_input(x.shape, wt, gy, stride, pad)), "nn.grad.conv2d_input"
            return (lambda: (torch.nn.grad.conv2d_weight(x, wt.shape, gy, stride, pad), gy.sum((0, 2, 3)))), \
                "nn.grad.conv2d_weight+sum"
        # pooling
        f = as_int(row, "f")
        mode = row["mode"]
        if mode == "max":
            pool = lambda t: F.max_pool2d(t, f, stride, pad)  # noqa: E731
        else:
            pool = lambda t: F.avg_pool2d(t, f, stride, pad, count_include_pad=True)  # noqa: E731
        x = self.randn(n, c, h, w)
        if op == "pool_fwd":
            y = pool(x)
            self._check(y, (n, c, ho, wo))
            return (lambda: pool(x)), "F.%s_pool2d" % mode
        x.requires_grad_(True)
        y = pool(x)
        self._check(y, (n, c, ho, wo))
        gy = torch.randn_like(y)
        return (lambda: torch.autograd.grad(y, x, gy, retain_graph=True)), "autograd(%s_pool2d)" % mode

    @staticmethod
    def _check(y, want):
        if tuple(y.shape) != want:
            raise RuntimeError("torch output %s, clcnn's shape gives %s" % (tuple(y.shape), want))

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()

    def time(self, fn, row_budget):
        """Warm-up, then up to --reps calls (fewer when one call is long), each
        between two CUDA events; (median, min, reps) in seconds."""
        torch = self.torch
        t0 = time.perf_counter()
        for _ in range(self.args.warmup):
            fn()
        self.sync()
        warm = (time.perf_counter() - t0) / max(self.args.warmup, 1)
        reps = self.args.reps
        if warm * reps > row_budget:
            reps = max(3, int(row_budget / warm)) if warm > 0 else reps
        if not self.cuda:  # --device cpu: wall clock
            t = []
            for _ in range(reps):
                t0 = time.perf_counter()
                fn()
                t.append(time.perf_counter() - t0)
            return statistics.median(t), min(t), reps
        ev = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(reps)]
        for s, e in ev:
            s.record()
            fn()
            e.record()
        torch.cuda.synchronize()
        t = [s.elapsed_time(e) / 1e3 for s, e in ev]
        return statistics.median(t), min(t), reps


def import_torch(device):
    """torch with a CUDA device (unless --device cpu), or None after saying why."""
    try:
        import torch  # noqa: PLC0415
    except ImportError as e:
        print("torch_peer: PyTorch is not importable from %s (%s); no peer column" % (sys.executable, e),
              file=sys.stderr)
        return None
    if device == "cuda" and not torch.cuda.is_available():
        print("torch_peer: PyTorch %s sees no CUDA device (torch.version.cuda = %s); no peer column"
              % (torch.__version__, torch.version.cuda), file=sys.stderr)
        return None
    return torch


def run(args):
    try:
        rows, headers = load_rows(args.json)
    except (OSError, ValueError) as e:
        print("torch_peer: %s" % e, file=sys.stderr)
        return EXIT_USAGE
    if not rows:
        print("torch_peer: no conv or pool rows in %s" % ", ".join(args.json), file=sys.stderr)
        return EXIT_USAGE
    if args.batch:
        rows = [with_batch(r, args.batch) for r in rows]
    torch = import_torch(args.device)
    if torch is None:
        return EXIT_NO_CUDA
    torch.backends.cudnn.enabled = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    torch.manual_seed(0)
    dev_name = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu (--device cpu: not a peer)"
    meta = {
        "tool": "torch_peer", "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "device": dev_name, "torch": torch.__version__, "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(), "dtype": "f32", "memory_format": "channels_last",
        "tf32": False, "cudnn_benchmark": args.cudnn_benchmark, "warmup": args.warmup, "reps": args.reps,
        "timing": "CUDA events around each call; median and min" if args.device == "cuda" else "wall clock",
        "batch_override": args.batch or None, "inputs": headers,
    }
    for h in headers:
        if h.get("dtype") not in (None, "f32"):
            print("torch_peer: %s is %s; the peer runs F32 regardless" % (h["file"], h["dtype"]), file=sys.stderr)
    print("torch_peer: %d rows on %s, torch %s, CUDA %s, cuDNN %s, TF32 off, channels_last, cudnn.benchmark=%s"
          % (len(rows), dev_name, torch.__version__, torch.version.cuda, meta["cudnn"], args.cudnn_benchmark),
          file=sys.stderr)

    peer = Peer(torch, args)
    start = time.perf_counter()
    done, results, failed = {}, [], 0
    for i, row in enumerate(rows):
        k = key_of(row)
        label = "%s/%s %s" % (row.get("suite"), row.get("layer"), row["op"])
        if k in done:
            res = dict(done[k], shared_with=done[k].get("first"))
        elif time.perf_counter() - start > args.budget:
            res = {"error": "not run: torch_peer's --budget of %g s was spent" % args.budget}
        else:
            left = len(rows) - i
            row_budget = max(0.05, min(args.row_budget, (args.budget - (time.perf_counter() - start)) / left))
            try:
                fn, api = peer.make_call(row)
                med, mn, reps = peer.time(fn, row_budget)
                res = {"median": med, "min": mn, "reps": reps, "api": api, "first": label}
            except Exception as e:  # noqa: BLE001 - one row's failure is that row's error
                res = {"error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")}
            finally:
                fn = None
                torch.cuda.empty_cache()
            done[k] = res
            print("  [%d/%d] %s: %s" % (i + 1, len(rows), label,
                                         "%.3f ms" % (res["median"] * 1e3) if "median" in res else res["error"]),
                  file=sys.stderr)
        if res.get("error"):
            failed += 1
        results.append(result_row(row, res))
    meta["seconds"] = round(time.perf_counter() - start, 3)
    write_outputs(args.out_dir, meta, results)
    print(table(results))
    print("torch_peer: %d rows, %d failed, %.1f s; wrote %s and %s" % (
        len(results), failed, meta["seconds"], os.path.join(args.out_dir, "torch.csv"),
        os.path.join(args.out_dir, "torch.json")))
    return EXIT_ROW_FAILED if failed else EXIT_OK


# ---- self-test (no torch) -------------------------------------------------------

SAMPLE = {
    "tool": "clcnn-bench", "version": "0.1.0", "date": "2026-01-01T00:00:00Z", "device": "sample", "dtype": "f32",
    "reps": 5, "budget_s": 150, "first_call": [{"family": "conv", "seconds": 0.5}],
    "rows": [
        {"suite": "resnet", "layer": "conv1", "kind": "conv", "op": "pad", "mode": None, "n": 32, "h": 224,
         "w": 224, "c": 3, "fh": 7, "fw": 7, "cout": 64, "f": 0, "stride": 2, "pad": 3, "ho": 230, "wo": 230,
         "flops": 0, "bytes": 1.0e7, "device_kernel_median_s": 1e-4},
        {"suite": "resnet", "layer": "conv1", "kind": "conv", "op": "conv_fwd", "mode": None, "n": 32, "h": 224,
         "w": 224, "c": 3, "fh": 7, "fw": 7, "cout": 64, "f": 0, "stride": 2, "pad": 3, "ho": 112, "wo": 112,
         "flops": 7.552892928e9, "bytes": 0, "device_kernel_median_s": 0.01, "device_wall_median_s": 0.011},
        {"suite": "resnet", "layer": "conv1", "kind": "conv", "op": "conv_bwd_data", "mode": None, "n": 32,
         "h": 224, "w": 224, "c": 3, "fh": 7, "fw": 7, "cout": 64, "f": 0, "stride": 2, "pad": 3, "ho": 112,
         "wo": 112, "flops": 7.552892928e9, "bytes": 0, "device_kernel_median_s": None},
        {"suite": "peers", "layer": "e", "kind": "conv", "op": "conv_bwd_filter", "mode": None, "n": 128, "h": 28,
         "w": 28, "c": 192, "fh": 1, "fw": 1, "cout": 32, "f": 0, "stride": 1, "pad": 0, "ho": 28, "wo": 28,
         "flops": None, "bytes": None, "device_kernel_median_s": 0.002},
        {"suite": "peers", "layer": "pool_max", "kind": "pool", "op": "pool_fwd", "mode": "max", "n": 64,
         "h": 112, "w": 112, "c": 64, "fh": 0, "fw": 0, "cout": 0, "f": 3, "stride": 2, "pad": 0, "ho": 55,
         "wo": 55, "flops": 0, "bytes": 2.0e8, "device_kernel_median_s": 0.001},
        {"suite": "peers", "layer": "pool_avg", "kind": "pool", "op": "pool_bwd", "mode": "avg", "n": 64,
         "h": 112, "w": 112, "c": 64, "fh": 0, "fw": 0, "cout": 0, "f": 2, "stride": 2, "pad": 0, "ho": 56,
         "wo": 56, "flops": 0, "bytes": 2.5e8, "device_kernel_median_s": 0.002},
    ],
}


def self_test(paths):
    """Parses SAMPLE (and any clcnn-bench JSON given), checks the selection,
    the shapes and the flops, and writes the outputs to a scratch folder."""
    problems = []

    def check(cond, what):
        if not cond:
            problems.append(what)

    with tempfile.TemporaryDirectory() as tmp:
        sample = os.path.join(tmp, "sample.json")
        with open(sample, "w", encoding="utf-8") as f:
            json.dump(SAMPLE, f)
        rows, headers = load_rows([sample])
        check([r["op"] for r in rows] == ["conv_fwd", "conv_bwd_data", "conv_bwd_filter", "pool_fwd", "pool_bwd"],
              "selection: %s" % [r["op"] for r in rows])
        check(headers[0]["device"] == "sample", "header")
        check(conv_flops(rows[0]) == 2.0 * 32 * 112 * 112 * 64 * 7 * 7 * 3, "conv1 flops %g" % conv_flops(rows[0]))
        check(shape_of(rows[0]) == (112, 112), "conv1 output %s" % (shape_of(rows[0]),))
        check(shape_of(rows[3]) == (55, 55), "pool_max output %s" % (shape_of(rows[3]),))
        check(work_of(rows[2]) == (2.0 * 128 * 28 * 28 * 32 * 192, None), "peers e work %s" % (work_of(rows[2]),))
        check(key_of(rows[0]) != key_of(rows[1]), "fwd and bwd share a key")
        fake = [{"median": 0.005, "min": 0.004, "reps": 5, "api": "x"}, {"error": "boom"},
                {"median": 0.001, "min": 0.001, "reps": 5, "api": "y"}, {"median": 0.0005, "min": 0.0004, "reps": 5},
                {"median": 0.001, "min": 0.001, "reps": 5}]
        results = [result_row(r, res) for r, res in zip(rows, fake)]
        check(abs(results[0]["ratio"] - 2.0) < 1e-12, "ratio %s" % results[0]["ratio"])
        check(abs(results[0]["torch_gflops"] - 7.552892928e9 / 0.005 / 1e9) < 1e-6, "gflops")
        check(results[1]["ratio"] is None and results[1]["error"] == "boom", "missing figures")
        check(abs(results[3]["torch_gbs"] - 2.0e8 / 0.0005 / 1e9) < 1e-9, "GB/s")
        text = table(results)
        check("conv1" in text and "boom" in text and "2.00" in text, "table:\n" + text)
        write_outputs(tmp, {"tool": "torch_peer"}, results)
        with open(os.path.join(tmp, "torch.json"), encoding="utf-8") as f:
            back = json.load(f)
        check(len(back["rows"]) == 5 and back["rows"][0]["layer"] == "conv1", "torch.json round trip")
        with open(os.path.join(tmp, "torch.csv"), encoding="utf-8") as f:
            check(len(list(csv.DictReader(f))) == 5, "torch.csv rows")
        print(text)

    # Real clcnn-bench files: the schema torch_peer relies on, the output size
    # and the flops count of every row it would run.
    for path in paths:
        try:
            rows, _ = load_rows([path])
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            problems.append("%s: %s" % (path, e))
            continue
        for k in ("tool", "device", "dtype", "rows"):
            check(k in doc, "%s: no top-level %s" % (path, k))
        n_sel = 0
        for r in doc["rows"]:
            where = "%s: %s/%s %s" % (path, r.get("suite"), r.get("layer"), r.get("op"))
            lacking = [k for k in ROW_KEYS + ("device_kernel_median_s",) if k not in r]
            check(not lacking, "%s lacks %s" % (where, lacking))
            if lacking or not selectable(r):
                continue
            n_sel += 1
            check((r["ho"], r["wo"]) == shape_of(r), "%s: ho, wo %s but the shape gives %s"
                  % (where, (r["ho"], r["wo"]), shape_of(r)))
            if r["kind"] == "conv":
                check(r["flops"] == conv_flops(r), "%s: flops %s, 2 N Ho Wo Cout fh fw Cin = %.0f"
                      % (where, r["flops"], conv_flops(r)))
            elif not r.get("bytes"):
                check(False, "%s: pooling row without bytes" % where)
        check(n_sel > 0, "%s: no conv or pool rows" % path)
        print("self-test: %s: %d rows, %d the peer would run" % (path, len(doc["rows"]), n_sel))
    if problems:
        for p in problems:
            print("self-test: FAIL: %s" % p, file=sys.stderr)
        return EXIT_ROW_FAILED
    print("self-test: OK (sample%s)" % ("".join(" + " + p for p in paths)))
    return EXIT_OK


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", nargs="*", help="clcnn-bench --json files")
    ap.add_argument("--out-dir", default=".", help="where torch.csv and torch.json go (default: .)")
    ap.add_argument("--reps", type=int, default=20, help="timed calls per row (default 20)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed calls first (default 3)")
    ap.add_argument("--budget", type=float, default=90.0, help="seconds for all rows (default 90)")
    ap.add_argument("--row-budget", type=float, default=2.0, help="seconds at most per row (default 2)")
    ap.add_argument("--no-cudnn-benchmark", dest="cudnn_benchmark", action="store_false",
                    help="leave torch.backends.cudnn.benchmark off (default: on, cuDNN picks its fastest)")
    ap.add_argument("--self-test", action="store_true", help="check the parsing and arithmetic, without torch")
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda",
                    help="cpu: try the script without a GPU (wall-clock timing; not a peer figure)")
    ap.add_argument("--batch", type=int, default=0, help="run every row at this batch instead (for trying it)")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test(args.json)
    if not args.json:
        ap.error("give clcnn-bench JSON files")
    if args.reps < 1 or args.warmup < 0:
        ap.error("--reps must be >= 1 and --warmup >= 0")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
