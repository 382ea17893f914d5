"""Reads checkpoint files into {name: float32 numpy array}.

safetensors is parsed by hand (an 8-byte little-endian header length, a JSON
header, then raw little-endian buffers), so it needs neither the safetensors
package nor torch. Pickled checkpoints (.pth, .bin) need torch.
"""
import json
import os
import struct

import numpy as np

_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
              "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}


class CheckpointError(Exception):
    pass


def read_safetensors(path):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise CheckpointError(f"{path}: too short to be a safetensors file")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8 or n > 100 << 20:
            raise CheckpointError(f"{path}: header length {n} exceeds the file size {size}; "
                                  "not a safetensors file, or truncated")
        try:
            header = json.loads(f.read(n))
        except ValueError as e:
            raise CheckpointError(f"{path}: safetensors header is not valid JSON ({e})")
        if not isinstance(header, dict):
            raise CheckpointError(f"{path}: safetensors header is a JSON "
                                  f"{type(header).__name__}, not an object of tensors")
        base = 8 + n
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            ok = (isinstance(info, dict) and isinstance(info.get("dtype"), str)
                  and isinstance(info.get("shape"), list)
                  and all(isinstance(d, int) and d >= 0 for d in info["shape"])
                  and isinstance(info.get("data_offsets"), list)
                  and len(info["data_offsets"]) == 2
                  and all(isinstance(d, int) for d in info["data_offsets"]))
            if not ok:
                raise CheckpointError(f"{path}: tensor {name}: the header entry needs dtype "
                                      f"(a string), shape (sizes) and data_offsets (2 "
                                      f"integers); found {json.dumps(info)[:120]}")
            dt, shape, (lo, hi) = info["dtype"], info["shape"], info["data_offsets"]
            if not 0 <= lo <= hi <= size - base:
                raise CheckpointError(f"{path}: tensor {name} lies outside the file "
                                      "(truncated download?)")
            if dt != "BF16" and dt not in _ST_DTYPES:
                raise CheckpointError(f"{path}: tensor {name} has unsupported dtype {dt}")
            item = 2 if dt == "BF16" else np.dtype(_ST_DTYPES[dt]).itemsize
            count = int(np.prod(shape)) if shape else 1
            if hi - lo != count * item:
                raise CheckpointError(f"{path}: tensor {name} has {hi - lo} bytes, its shape "
                                      f"{shape} of {dt} needs {count * item}")
            f.seek(base + lo)
            raw = f.read(hi - lo)
            if dt == "BF16":  # bfloat16 is the top half of a float32
                arr = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
            else:
                arr = np.frombuffer(raw, _ST_DTYPES[dt])
            out[name] = arr.reshape(shape)
    return out


def read_pickle(path):
    try:
        import torch
    except ImportError:
        raise CheckpointError(f"{path}: reading a pickled checkpoint needs python3-torch "
                              "(apt-get install python3-torch), or convert it to safetensors")
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:  # torch raises many kinds on damaged files
        try:  # OpenAI's CLIP .pt files are TorchScript archives
            obj = torch.jit.load(path, map_location="cpu").state_dict()
        except Exception:
            raise CheckpointError(f"{path}: torch.load failed: {e}")
    for key in ("state_dict", "model", "model_state_dict", "teacher"):  # training wrappers
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a state dict, found {type(obj).__name__}")
    out = {}
    for k, v in obj.items():
        if hasattr(v, "detach"):
            out[k] = v.detach().cpu().float().numpy() if v.is_floating_point() else v.numpy()
    return out


def read_any(path):
    if path.endswith(".safetensors"):
        return read_safetensors(path)
    return read_pickle(path)


def _json_object(path):
    try:
        with open(path) as f:
            obj = json.load(f)
    except ValueError as e:
        raise CheckpointError(f"{path}: not valid JSON ({e})")
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: a JSON {type(obj).__name__}, expected an object")
    return obj


def read_hf_folder(folder):
    """config.json plus model.safetensors / pytorch_model.bin (or their sharded indexes)."""
    cfg_path = os.path.join(folder, "config.json")
    if not os.path.isfile(cfg_path):
        raise CheckpointError(f"{folder}: no config.json; expected a HuggingFace model folder")
    config = _json_object(cfg_path)
    for single, index in (("model.safetensors", "model.safetensors.index.json"),
                          ("pytorch_model.bin", "pytorch_model.bin.index.json")):
        if os.path.isfile(os.path.join(folder, single)):
            return config, read_any(os.path.join(folder, single))
        if os.path.isfile(os.path.join(folder, index)):
            wmap = _json_object(os.path.join(folder, index)).get("weight_map")
            if not isinstance(wmap, dict) or not all(isinstance(v, str) for v in wmap.values()):
                raise CheckpointError(f"{os.path.join(folder, index)}: no 'weight_map' of "
                                      "tensor names to file names")
            files = sorted(set(wmap.values()))
            tensors = {}
            for name in files:
                tensors.update(read_any(os.path.join(folder, name)))
            return config, tensors
    raise CheckpointError(f"{folder}: no model.safetensors or pytorch_model.bin")
