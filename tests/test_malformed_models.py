#!/usr/bin/env python3
"""Malformed models, inputs and command lines are refused clearly: exit 2, never a crash.

Each case damages a fresh, valid sharded model (or the input, or the command
line) and expects exit code 2, no signal, no hang, and a message that names
the file and the dataset or group, with expected and found shapes where
shapes are the problem. A positive control scores the undamaged model.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testlib import PYTHON, Checker, run  # noqa: E402

SHAPE = ["--image-size", "32", "--patch-size", "8", "--hidden", "64", "--layers", "3",
         "--heads", "4", "--mlp-dim", "128", "--classes", "10"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vitrun", required=True)
    ap.add_argument("--scripts", required=True)
    a = ap.parse_args()
    ck = Checker("malformed models, inputs and command lines")
    root = tempfile.mkdtemp()
    try:
        def fresh(name, shards=2, seed=0):
            d = os.path.join(root, name)
            os.makedirs(d)
            m = os.path.join(d, "m.h5")
            run([PYTHON, os.path.join(a.scripts, "make_model.py")] + SHAPE +
                ["--shards", str(shards), "--seed", str(seed), m])
            return d, m

        def expect(what, args, needles, code=2, env=None):
            try:
                p = subprocess.run([a.vitrun] + args, capture_output=True, text=True, timeout=60,
                                   env=dict(os.environ, **(env or {})))
            except subprocess.TimeoutExpired:
                return ck.check(what, False, "hung for 60 s")
            first = (p.stderr.strip().splitlines() or [""])[0]
            missing = [n for n in needles if n not in p.stderr]
            ck.check(what, p.returncode == code and not missing,
                     f"exit {p.returncode}{', lacks ' + str(missing) if missing else ''}: "
                     f"{first[:220]}")

        def score(model, out="o.h5"):
            return ["--model", model, "--synthetic", "3", "--output", os.path.join(root, out)]

        d, m = fresh("control")
        expect("control: the undamaged model scores", score(m), [], code=0)

        d, m = fresh("missing")
        with h5py.File(os.path.join(d, "m.shard-01.h5"), "a") as f:
            del f["layers/02/attn/qkv_weight"]
        expect("missing dataset", score(m), ["m.shard-01.h5", "/layers/02/attn/qkv_weight",
                                             "missing"])

        d, m = fresh("shape")
        with h5py.File(os.path.join(d, "m.shard-00.h5"), "a") as f:
            del f["layers/01/attn/qkv_weight"]
            f["layers/01/attn/qkv_weight"] = np.zeros((3, 4, 16, 48), np.float32)
        expect("wrong shape", score(m), ["m.shard-00.h5", "/layers/01/attn/qkv_weight",
                                         "[3, 4, 16, 48]", "[3, 4, 16, 64]"])

        d, m = fresh("dtype")
        with h5py.File(os.path.join(d, "m.shard-00.h5"), "a") as f:
            del f["embed/pos_embed"]
            f["embed/pos_embed"] = np.zeros((17, 64), np.int32)
        expect("integer weights", score(m), ["/embed/pos_embed", "int32", "float32"])

        d, m = fresh("nan")
        with h5py.File(os.path.join(d, "m.shard-01.h5"), "a") as f:
            f["head/bias"][3] = np.nan
        expect("NaN weight", score(m), ["/head/bias", "non-finite"])

        d, m = fresh("version")
        with h5py.File(m, "a") as f:
            f.attrs["format_version"] = 99
        expect("unknown format version", score(m), ["m.h5", "format_version 99"])

        d, m = fresh("trunc_index")
        with open(m, "r+b") as f:
            f.truncate(os.path.getsize(m) // 2)
        expect("truncated index file", score(m), ["m.h5", "truncated"])

        d, m = fresh("trunc_shard")
        s = os.path.join(d, "m.shard-01.h5")
        with open(s, "r+b") as f:
            f.truncate(os.path.getsize(s) // 2)
        expect("truncated shard file", score(m), ["m.shard-01.h5"])

        d, m = fresh("gone")
        os.remove(os.path.join(d, "m.shard-01.h5"))
        expect("index points at a missing shard", score(m), ["m.shard-01.h5", "/layers/02",
                                                             "cannot be opened"])

        d, m = fresh("mixed")
        d2, _ = fresh("other", seed=1)
        shutil.copy(os.path.join(d2, "m.shard-01.h5"), os.path.join(d, "m.shard-01.h5"))
        expect("shard of another model", score(m), ["m.shard-01.h5", "model_id"])

        # string attributes holding many strings (HDF5 writes every one of them)
        d, m = fresh("id_array")
        with h5py.File(m, "a") as f:
            f.attrs.create("model_id", np.array([b"A" * 16] * 1000, dtype="S16"))
        expect("model_id: 1000 fixed-length strings", score(m), ["m.h5", "model_id",
                                                                  "not one string"])
        d, m = fresh("id_vlen")
        with h5py.File(m, "a") as f:
            f.attrs.create("model_id", ["x"] * 1000, dtype=h5py.string_dtype())
        expect("model_id: 1000 variable-length strings", score(m), ["m.h5", "model_id",
                                                                     "not one string"])
        d, m = fresh("shard_id_vlen")
        with h5py.File(os.path.join(d, "m.shard-01.h5"), "a") as f:
            f.attrs.create("model_id", ["x"] * 1000, dtype=h5py.string_dtype())
        expect("a shard's model_id: 1000 strings", score(m), ["m.shard-01.h5", "model_id"])
        d, m = fresh("resize_mode_array")
        with h5py.File(m, "a") as f:
            f["preprocess"].attrs.create("resize", ["shorter"] * 50, dtype=h5py.string_dtype())
        expect("/preprocess resize: 50 strings", score(m), ["m.h5", "/preprocess", "resize"])
        for bad in (16, 1 << 31):  # crop_size is 32
            d, m = fresh(f"resize_{bad}")
            with h5py.File(m, "a") as f:
                f["preprocess"].attrs["resize_size"] = bad
            expect(f"/preprocess resize_size {bad}", score(m), ["m.h5", f"resize_size {bad}",
                                                                "crop_size 32"])

        # a shard behind a 614-character relative path (12 folders of 49
        # characters), linked from 72 groups: opened once, not once per group
        # (past 64 opens a model is refused)
        d = os.path.join(root, "long_link")
        os.makedirs(d)
        m = os.path.join(d, "m.h5")
        run([PYTHON, os.path.join(a.scripts, "make_model.py"), "--image-size", "16",
             "--patch-size", "8", "--hidden", "16", "--layers", "140", "--heads", "2",
             "--mlp-dim", "32", "--classes", "3", "--shards", "2", m])
        sub = os.path.join(*["d" * 49] * 12)
        os.makedirs(os.path.join(d, sub))
        os.rename(os.path.join(d, "m.shard-01.h5"), os.path.join(d, sub, "m.shard-01.h5"))
        relinked = []
        with h5py.File(m, "a") as f:
            def relink(g):
                for k in list(g.keys()):
                    ln = g.get(k, getlink=True)
                    if isinstance(ln, h5py.ExternalLink) and ln.filename == "m.shard-01.h5":
                        del g[k]
                        g[k] = h5py.ExternalLink(os.path.join(sub, ln.filename), ln.path)
                        relinked.append(k)
                    elif isinstance(ln, h5py.HardLink) and isinstance(g[k], h5py.Group):
                        relink(g[k])
            relink(f)
        expect(f"a shard file behind a 614-character link from {len(relinked)} groups: scores",
               score(m), ["3 rows"], code=0)

        d, m = fresh("attr")
        with h5py.File(m, "a") as f:
            del f["config"].attrs["hidden_size"]
        expect("missing config attribute", score(m), ["m.h5", "hidden_size"])

        d, m = fresh("heads")
        with h5py.File(m, "a") as f:
            f["config"].attrs["num_heads"] = 5
        expect("heads that do not divide the width", score(m), ["m.h5", "num_heads 5"])

        d, m = fresh("nohead", shards=1)
        with h5py.File(m, "a") as f:
            del f["head"]
        expect("unsharded model without /head", score(m), ["m.h5", "/head", "missing"])

        # /preprocess values that let every row fail or every image score alike
        for attr, val, needle in [("mean", [float("nan"), 0, 0], "mean[0] = nan"),
                                  ("std", [1, float("inf"), 1], "std[1] = inf"),
                                  ("rescale", 0.0, "rescale = 0"),
                                  ("rescale", -1 / 255, "rescale = -0.00392"),
                                  ("rescale", float("nan"), "rescale = nan")]:
            d, m = fresh(f"pre_{attr}_{len(os.listdir(root))}")
            with h5py.File(m, "a") as f:
                f["preprocess"].attrs[attr] = np.asarray(val, np.float64)
            expect(f"/preprocess {attr} = {val}", score(m), ["m.h5", "/preprocess", needle])

        # attributes of the wrong kind say what they hold
        d, m = fresh("image_size_float")
        with h5py.File(m, "a") as f:
            f["config"].attrs["image_size"] = 32.0
        expect("/config image_size stored as a float", score(m),
               ["m.h5", "'image_size' should be one integer, found float64"])
        d, m = fresh("version_str")
        with h5py.File(m, "a") as f:
            f.attrs["format_version"] = "1"
        expect("format_version stored as a string", score(m),
               ["m.h5", "'format_version' should be one integer, found a string"])
        d, m = fresh("labels_int")
        with h5py.File(m, "a") as f:
            if "labels" in f:
                del f["labels"]
            f["labels"] = np.arange(10)
        expect("integer /labels", score(m), ["m.h5", "/labels must be 10 strings",
                                             "found 10 values of int64"])

        d, m = fresh("labels_latin1")
        with h5py.File(m, "a") as f:
            if "labels" in f:
                del f["labels"]
            f["labels"] = np.array([b"caf\xe9"] + [b"c%d" % i for i in range(9)])
        expect("/labels that are not UTF-8 (they would break the topk_label column)",
               score(m), ["m.h5", "/labels[0] is not UTF-8"])

        # Files from the internet that crash or hang libhdf5 1.10.8 reading a
        # variable-length string (H5HG_read: SIGSEGV, heap overflow; endless
        # loop in H5C_protect): exit 2 with a message, within the reader's
        # deadline (set to 3 s here)
        hostile = os.path.join(HERE, "fuzz", "regressions", "fuzz_model")
        for name, needle in [("model_segv_H5HG_read.h5", "crashed"),
                             ("model_hang_H5HG.h5", "did not finish reading it in 3 s"),
                             ("model_hbo_H5HG_read.h5", "")]:
            t0 = time.time()
            expect(f"hostile model {name}: exit 2, no crash, no hang",
                   score(os.path.join(hostile, name)), [name, needle],
                   env={"VITRUN_HDF5_STRING_TIMEOUT": "3"})
            ck.check(f"hostile model {name}: ends within 15 s", time.time() - t0 < 15,
                     f"{time.time() - t0:.1f} s")

        # a model written before fixed-length strings (variable-length model_id,
        # /config and /preprocess strings, labels): still read, through the
        # child process, and scores exactly as the same model upgraded
        d, m = fresh("old_vlen", shards=2)
        with h5py.File(m, "a") as f:
            for obj in (f, f["config"], f["preprocess"]):
                for k in list(obj.attrs):
                    v = obj.attrs[k]
                    if isinstance(v, bytes):
                        obj.attrs.create(k, v.decode(), dtype=h5py.string_dtype())
            if "labels" in f:
                del f["labels"]
            f.create_dataset("labels", data=[f"class {i} é" for i in range(10)],
                             dtype=h5py.string_dtype())
        for sh in ("m.shard-00.h5", "m.shard-01.h5"):
            with h5py.File(os.path.join(d, sh), "a") as f:
                f.attrs.create("model_id", f.attrs["model_id"].decode(),
                               dtype=h5py.string_dtype())
        with h5py.File(m, "r") as f:
            ck.check("old-style model: its strings are variable-length",
                     f.attrs.get_id("model_id").get_type().is_variable_str() and
                     f["labels"].dtype.kind == "O")
        expect("old-style model (variable-length strings) scores", score(m, "old.csv"), [],
               code=0)
        new = os.path.join(root, "upgraded")
        shutil.copytree(d, new)
        run([PYTHON, os.path.join(a.scripts, "upgrade_model.py"), os.path.join(new, "m.h5")])
        with h5py.File(os.path.join(new, "m.h5"), "r") as f:
            ck.check("upgrade_model.py: no variable-length string left in the index",
                     not f.attrs.get_id("model_id").get_type().is_variable_str() and
                     f["labels"].dtype.kind != "O")
        expect("the upgraded model scores", score(os.path.join(new, "m.h5"), "new.csv"), [],
               code=0)
        old_rows = open(os.path.join(root, "old.csv"), encoding="utf-8").read()
        new_rows = open(os.path.join(root, "new.csv"), encoding="utf-8").read()
        ck.check("old-style and upgraded model: identical rows, labels included",
                 old_rows == new_rows and "class 3 é" in old_rows, old_rows[:200])

        text = os.path.join(root, "notes.h5")
        with open(text, "w") as f:
            f.write("not a model\n")
        expect("a text file as the model", score(text), ["notes.h5", "not an HDF5 file"])
        expect("a model that does not exist", score(os.path.join(root, "nope.h5")),
               ["nope.h5", "No such file"])

        _, m = fresh("inputs")
        wrong = os.path.join(root, "wrong.h5")
        with h5py.File(wrong, "w") as f:
            f["images"] = np.zeros((2, 28, 28, 3), np.uint8)
        expect("input images of the wrong size", ["--model", m, "--input", wrong, "--output",
               os.path.join(root, "o.h5")], ["wrong.h5", "[2, 28, 28, 3]", "[N,32,32,3]"])
        empty = os.path.join(root, "noimages.h5")
        with h5py.File(empty, "w") as f:
            f["pixels"] = np.zeros((2, 32, 32, 3), np.uint8)
        expect("input without 'images'", ["--model", m, "--input", empty, "--output",
               os.path.join(root, "o.h5")], ["noimages.h5", "no dataset 'images'"])
        # --output: never a folder, never a file the run reads
        folder = os.path.join(root, "outdir")
        os.makedirs(folder)
        for what, o in [("an existing folder", folder), ("a path ending in /", folder + "/"),
                        ("empty", "")]:
            expect(f"--output {what}", ["--model", m, "--synthetic", "3", "--output", o],
                   ["--output", "scores.h5"])
        # never replace or write through what is not a regular file
        fifo = os.path.join(root, "fifo")
        os.mkfifo(fifo)
        for what, o, needle in [("/dev/null", "/dev/null", "a character device"),
                                ("/dev/full", "/dev/full", "a character device"),
                                ("a FIFO", fifo, "a FIFO")]:
            expect(f"--output {what}: refused before scoring",
                   ["--model", m, "--synthetic", "3", "--output", o],
                   ["--output", needle, "--no-output"])
        ck.check("/dev/null and /dev/full are still character devices",
                 all(os.path.exists(d) and not os.path.isfile(d)
                     for d in ("/dev/null", "/dev/full")))
        kept = open(m, "rb").read()
        expect("--output the model file", ["--model", m, "--synthetic", "3", "--output", m],
               ["--output", "--model file"])
        ck.check("the model file untouched", open(m, "rb").read() == kept)
        shard = os.path.join(os.path.dirname(m), "m.shard-01.h5")
        kept = open(shard, "rb").read()
        expect("--output one of the model's shard files", ["--model", m, "--synthetic", "3",
               "--output", shard], ["--output", "is a vitrun model file"])
        ck.check("the shard file untouched", open(shard, "rb").read() == kept)
        # --report: checked before scoring like --output (it was written after)
        out_r = os.path.join(root, "scored.h5")
        kept = open(m, "rb").read()
        for what, rep, needle in [
                ("the --output file", out_r, "name the same file"),
                ("the --output file by another name", os.path.join(root, ".", "scored.h5"),
                 "name the same file"),
                ("the model file", m, "is the --model file"),
                ("in a missing folder", os.path.join(root, "nope", "r.json"), "does not exist")]:
            expect(f"--report {what}", ["--model", m, "--synthetic", "3", "--output", out_r,
                                        "--report", rep], ["--report", needle])
        ck.check("--report refused: nothing scored, nothing written",
                 not any(os.path.exists(out_r + x) for x in ("", ".part", ".journal"))
                 and open(m, "rb").read() == kept)
        good_in = os.path.join(root, "in.h5")
        with h5py.File(good_in, "w") as f:
            f["images"] = np.zeros((2, 32, 32, 3), np.uint8)
        expect("--output the input file", ["--model", m, "--input", good_in, "--output",
                                           good_in], ["--output", "--input file"])
        alias = os.path.join(root, "in.csv")
        os.link(good_in, alias)
        expect("--output the input file under another name (a hard link)",
               ["--model", m, "--input", good_in, "--output", alias], ["--output", "--input file"])
        # HDF5 image inputs: signed bytes, 'paths' that do not name every row,
        # 'images' that is not a dataset; fixed-length 'paths' name the rows
        _, m = fresh("h5inputs")
        px = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
        cases = {"int8": {"images": px.astype(np.int8)},
                 "short_paths": {"images": px, "paths": np.array([b"a.jpg", b"b.jpg"])},
                 "paths_2d": {"images": px, "paths": np.array([[b"a"], [b"b"], [b"c"]])},
                 "group": {}}
        for name, content in cases.items():
            path = os.path.join(root, f"in_{name}.h5")
            with h5py.File(path, "w") as f:
                for k, v in content.items():
                    f[k] = v
                if name == "group":
                    f.create_group("images")
            needles = {"int8": ["int8 [3, 32, 32, 3]", "uint8"],
                       "short_paths": ["'paths' must be 3 strings", "found 2"],
                       "paths_2d": ["'paths' must be 3 strings", "more than one dimension"],
                       "group": ["'images' cannot be opened as a dataset"]}[name]
            expect(f"input: {name.replace('_', ' ')}", ["--model", m, "--input", path,
                   "--output", os.path.join(root, "o.h5")], [path] + needles)
        sparse = os.path.join(root, "in_sparse.h5")
        with h5py.File(sparse, "w") as f:  # 10^12 images declared, one chunk written
            d = f.create_dataset("images", (10 ** 12, 32, 32, 3), np.uint8,
                                 chunks=(1, 32, 32, 3), fillvalue=7)
            d[0] = px[0]
        expect("input: 10^12 images declared, one written", ["--model", m, "--input", sparse,
               "--output", os.path.join(root, "o.h5")], [sparse, "only part of its "
                                                          "1000000000000 images written"])
        ext = os.path.join(root, "in_external.h5")
        with h5py.File(ext, "w") as f:  # pixels in a raw file beside it, then deleted
            f.create_dataset("images", px.shape, np.uint8,
                             external=[(os.path.join(root, "gone.bin"), 0, px.nbytes)])
        expect("input: external raw storage missing", ["--model", m, "--input", ext,
               "--output", os.path.join(root, "o.h5")], [ext, "external data file"])
        fixed = os.path.join(root, "in_fixed_paths.h5")
        with h5py.File(fixed, "w") as f:
            f["images"] = px
            f["paths"] = np.array([b"a.jpg", b"bb/c.jpg", b"d.jpg"])  # numpy 'S8', null-padded
        expect("input: fixed-length 'paths' name the rows", ["--model", m, "--input", fixed,
               "--output", os.path.join(root, "fixed.csv")], [], code=0)
        rows = open(os.path.join(root, "fixed.csv")).read().splitlines()[1:]
        ck.check("fixed-length 'paths': the rows carry them",
                 [r.split(",")[0] for r in rows] == ['"a.jpg"', '"bb/c.jpg"', '"d.jpg"'],
                 f"{[r.split(',')[0] for r in rows]}")
        # variable-length 'paths' (h5py's default for str) name the rows as
        # fixed-length ones do; with their global heap damaged (bytes of the
        # collection overwritten, seeded), libhdf5 crashed: now each run ends
        # in exit 0 or 2 (never a signal), and the damage is named
        vl = os.path.join(root, "in_vlen_paths.h5")
        with h5py.File(vl, "w") as f:
            f["images"] = px
            f.create_dataset("paths", data=["a.jpg", "bb/c.jpg", "d.jpg"],
                             dtype=h5py.string_dtype())
        expect("input: variable-length 'paths' name the rows", ["--model", m, "--input", vl,
               "--output", os.path.join(root, "vlen.csv")], [], code=0)
        rows = open(os.path.join(root, "vlen.csv")).read().splitlines()[1:]
        ck.check("variable-length 'paths': the rows carry them",
                 [r.split(",")[0] for r in rows] == ['"a.jpg"', '"bb/c.jpg"', '"d.jpg"'])
        clean = bytearray(open(vl, "rb").read())
        gcol = clean.find(b"GCOL")
        rng = np.random.default_rng(7)
        codes, named_damage = {}, 0
        for trial in range(24):
            bad = bytearray(clean)
            for j in rng.integers(gcol + 16, min(len(bad), gcol + 400), 4):
                bad[int(j)] = int(rng.integers(0, 256))
            hb = os.path.join(root, "in_heap.h5")
            open(hb, "wb").write(bytes(bad))
            ob = os.path.join(root, f"heap{trial}.csv")
            try:
                p = subprocess.run([a.vitrun, "--model", m, "--input", hb, "--output", ob,
                                    "--batch", "1"], capture_output=True, text=True,
                                   timeout=60, env=dict(os.environ,
                                                        VITRUN_HDF5_STRING_TIMEOUT="3"))
                codes[p.returncode] = codes.get(p.returncode, 0) + 1
                named_damage += p.returncode == 2 and "'paths'" in p.stderr
            except subprocess.TimeoutExpired:
                codes["hang"] = codes.get("hang", 0) + 1
        ck.check("24 damaged global heaps under 'paths': exit 0 or 2 only, the damage named",
                 gcol > 0 and set(codes) <= {0, 2} and named_damage > 0,
                 f"exit codes {codes}; {named_damage} named 'paths'")

        # a 6.5 KB input whose 'paths' heap claims a 2 GB string (from fuzzing):
        # the reader process allocated and cleared it (3.6 GB, 32 s); its
        # address space is capped, so the read fails at once
        big_claim = os.path.join(HERE, "fuzz", "regressions", "fuzz_input_h5",
                                 "vlen_paths_reader_child_allocates_2gb.h5")
        with h5py.File(big_claim, "r") as f:
            side = f["images"].shape[1]  # 8
        m8 = os.path.join(root, "m8.h5")
        run([PYTHON, os.path.join(a.scripts, "make_model.py"), "--image-size", str(side),
             "--patch-size", "4", "--hidden", "16", "--layers", "1", "--heads", "2",
             "--mlp-dim", "32", "--classes", "3", m8])
        t0 = time.time()
        errf = os.path.join(root, "claim.err")
        with open(errf, "w") as ef:
            pr = subprocess.Popen([a.vitrun, "--model", m8, "--input", big_claim, "--output",
                                   os.path.join(root, "claim.csv")], stdout=ef, stderr=ef)
            # peak RSS of vitrun and of the reader it waited for (Linux wait4)
            _, status, usage = os.wait4(pr.pid, 0)
        code, err = os.waitstatus_to_exitcode(status), open(errf).read()
        ck.check("'paths' heap claiming a 2 GB string: exit 2 naming 'paths', under 10 s "
                 "and 300 MB", code == 2 and "'paths'" in err and time.time() - t0 < 10 and
                 usage.ru_maxrss < 300_000,
                 f"exit {code} in {time.time() - t0:.1f} s, peak RSS {usage.ru_maxrss} KB")

        # --labels problems found before anything is written
        named = os.path.join(root, "in_named.h5")
        with h5py.File(named, "w") as f:
            f["images"] = px
            f["paths"] = np.array([b"a.jpg", b"b.jpg", b"c.jpg"])
        lab = os.path.join(root, "named_labels.txt")
        with open(lab, "w") as f:
            f.write("1 a.jpg\n2 b.jpg\n3 zz.jpg\n")
        out_l = os.path.join(root, "lab.h5")
        expect("--labels naming another row than an HDF5 input's 'paths': refused before "
               "scoring", ["--model", m, "--input", named, "--output", out_l, "--labels", lab,
                           "--batch", "1"],
               [lab + ":3", "names 'zz.jpg' but this row is 'c.jpg'"])
        ck.check("... and nothing written (no OUT.part, OUT.journal, OUT.lock)",
                 not any(os.path.exists(out_l + x) for x in ("", ".part", ".journal", ".lock")),
                 str([x for x in os.listdir(root) if x.startswith("lab.h5")]))
        expect("--labels naming a folder", ["--model", m, "--input", named, "--output", out_l,
                                            "--labels", root], [root, "is a folder"])
        jdir = os.path.join(root, "jpegs")
        os.makedirs(jdir)
        from PIL import Image
        for i in range(3):
            Image.fromarray(px[i]).save(os.path.join(jdir, f"{i}.jpg"))
        out_j = os.path.join(root, "jl.h5")
        expect("--labels out of the folder's order: refused", ["--model", m, "--input", jdir,
               "--output", out_j, "--labels", lab], [lab + ":1", "this row is '0.jpg'"])
        ck.check("... and no manifest (OUT.inputs) left behind",
                 not any(os.path.exists(out_j + x) for x in (".inputs", ".part", ".journal")))
        # --report in a read-only place: refused before scoring (as root,
        # permission bits do not stop a write: a read-only file system does)
        ro = os.path.join(root, "ro")
        os.makedirs(ro)
        mounted = os.geteuid() == 0 and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro],
            capture_output=True).returncode == 0
        if mounted:
            try:
                out_r2 = os.path.join(root, "ro_rep.h5")
                expect("--report on a read-only file system: refused before scoring",
                       score(m, "ro_rep.h5") + ["--report", os.path.join(ro, "r.json")],
                       ["--report", "Read-only file system"])
                ck.check("... and nothing scored", not os.path.exists(out_r2))
            finally:
                subprocess.run(["umount", ro])
        else:
            print("  (read-only --report: not checked, tmpfs cannot be mounted here)")
        # the command line: repeated paths, --topk over the classes, --no-output
        expect("--output given twice", score(m) + ["--output", os.path.join(root, "b.h5")],
               ["--output is given twice"])
        expect("--topk 11 on 10 classes: said, then scored",
               score(m, "topk.csv") + ["--topk", "11"], ["--topk 11", "10 classes"], code=0)
        kept_dir = sorted(os.listdir(root))
        expect("--no-output: scores, keeps nothing", ["--model", m, "--input", jdir,
                                                      "--no-output"], ["not kept"], code=0)
        ck.check("--no-output: no file written", sorted(os.listdir(root)) == kept_dir and
                 not any(x.startswith("vitrun-") for x in os.listdir(tempfile.gettempdir())))
        expect("--no-output with --output", score(m) + ["--no-output"], ["--no-output"])

        expect("unknown flag", score(m) + ["--fast"], ["unknown option '--fast'"])
        expect("--batch 0", score(m) + ["--batch", "0"], ["--batch"])
        expect("--batch abc", score(m) + ["--batch", "abc"], ["--batch", "abc"])
        expect("no --output", ["--model", m, "--synthetic", "2"], ["--output"])
        expect("both --input and --synthetic", score(m) + ["--input", wrong], ["exactly one"])
    finally:
        shutil.rmtree(root)
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
