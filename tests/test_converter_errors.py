#!/usr/bin/env python3
"""convert_checkpoint.py refuses what it cannot convert, says why, and leaves no file.

Each case damages a valid checkpoint written by tests/reference/checkpoints.py
and expects exit code 2, a message naming the problem, and no output model.
Two positive controls make sure the cases fail for the stated reason.
"""
import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
import checkpoints  # noqa: E402
from testlib import PYTHON, Checker, run  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vitrun", required=True)
    ap.add_argument("--scripts", required=True)
    a = ap.parse_args()
    conv = os.path.join(a.scripts, "convert_checkpoint.py")
    ck = Checker("converter errors")
    P = checkpoints.random_params(32, 8, 3, 60, 2, 5, 100, 11, 1e-6, seed=1)
    P192 = checkpoints.random_params(32, 8, 3, 192, 1, 3, 64, 4, 1e-6, seed=2)

    with tempfile.TemporaryDirectory() as tmp:
        def path(name):
            return os.path.join(tmp, name)

        def timm_with(name, edit):
            t = {k: v for k, v in checkpoints.export_timm_tensors(P).items()}
            edit(t)
            checkpoints.write_safetensors(path(name), t)
            return path(name)

        def expect_fail(what, args, needle):
            dst = path("out.h5")
            p = run([PYTHON, conv] + args + [dst], check=False)
            msg = (p.stderr or "").strip().splitlines()
            last = msg[-1] if msg else ""
            ok = p.returncode == 2 and needle in p.stderr and not os.path.exists(dst)
            ck.check(what, ok, f"exit {p.returncode}: {last[:160]}")

        def expect_ok(what, args, needle=""):
            dst = path("ok.h5")
            p = run([PYTHON, conv] + args + [dst], check=False)
            ck.check(what, p.returncode == 0 and needle in p.stderr and os.path.exists(dst),
                     f"exit {p.returncode}: {p.stderr.strip().splitlines()[-1][:160]}")
            os.remove(dst) if os.path.exists(dst) else None

        good = timm_with("good.safetensors", lambda t: None)
        expect_ok("control: the undamaged timm checkpoint converts",
                  ["--format", "timm", good, "--heads", "5"])
        expect_fail("unexpected tensor is listed",
                    ["--format", "timm", timm_with("extra.safetensors",
                     lambda t: t.update({"blocks.0.attn.extra": P["cls"]})), "--heads", "5"],
                    "unexpected tensors: blocks.0.attn.extra")
        expect_fail("missing tensor is listed",
                    ["--format", "timm", timm_with("missing.safetensors",
                     lambda t: t.pop("blocks.1.mlp.fc2.bias")), "--heads", "5"],
                    "missing tensors: blocks.1.mlp.fc2.bias")
        expect_fail("tensor of the wrong shape",
                    ["--format", "timm", timm_with("shape.safetensors",
                     lambda t: t.update({"head.bias": P["head_b"][:-1]})), "--heads", "5"],
                    "expected [11]")
        with open(good, "rb") as f:
            data = f.read()
        with open(path("trunc.safetensors"), "wb") as f:
            f.write(data[: len(data) // 2])
        expect_fail("truncated safetensors", ["--format", "timm", path("trunc.safetensors"),
                                               "--heads", "5"], "truncated")
        expect_fail("width 60 without --heads", ["--format", "timm", good], "pass --heads")
        expect_fail("torchvision file given as timm",
                    ["--format", "timm", checkpoints.export_torchvision_safetensors(
                        P, path("tv.safetensors")), "--heads", "5"],
                    "patch_embed.proj.weight is missing")
        checkpoints.write_safetensors(path("w192.safetensors"),
                                            checkpoints.export_timm_tensors(P192))
        expect_ok("control: width 192 takes the standard 3 heads, and says so",
                  ["--format", "timm", path("w192.safetensors")], "assuming 3 heads")
        os.makedirs(path("empty_hf"))
        expect_fail("HF folder without config.json", ["--format", "hf", path("empty_hf")],
                    "no config.json")
        hf = checkpoints.export_hf(P, path("hf"), [str(i) for i in range(11)])
        with open(os.path.join(hf, "config.json")) as f:
            cfg = json.load(f)
        cfg["hidden_act"] = "gelu_new"
        with open(os.path.join(hf, "config.json"), "w") as f:
            json.dump(cfg, f)
        expect_fail("HF tanh-approximate GELU refused", ["--format", "hf", hf], "gelu_new")
        with open(path("labels.txt"), "w") as f:
            f.write("a\nb\n")
        expect_fail("label file with the wrong count",
                    ["--format", "timm", good, "--heads", "5", "--labels", path("labels.txt")],
                    "2 labels")
        expect_fail("more shards than layers",
                    ["--format", "timm", good, "--heads", "5", "--shards", "3"], "--shards")
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
