#!/usr/bin/env python3
"""Parity goldens made by Hugging Face transformers, for tests/engine/test-parity.cpp.

For every case below this script builds a tiny random model with transformers' own classes
(fixed seeds, weights of standard deviation 0.15, norm weights 1 + 0.1*randn, random q/k/v
biases, a random non-negative DeepSeek-V3 e_score_correction_bias), saves it with
save_pretrained in float32, reloads the saved folder with from_pretrained and, from the reloaded
model, writes beside it:

  golden.json        versions, the case description, prompt ids, the 8-token greedy continuation,
                     code-path notes read off the installed transformers (attention scale, RoPE
                     attention factor and inverse frequencies, routing method), the tensor names
                     and shapes save_pretrained wrote, and the near-tie margins (greedy top-1 vs
                     top-2, router k-th vs (k+1)-th selection score) that make the golden robust.
  logits.npy         float32 [nTok, nVocab], every prompt position (one full forward).
  hidden.npy         float32 [nLayer, nTok, nEmbd]: the output of each decoder layer (residual
                     stream) over the prompt, from forward hooks; a debugging aid only.

Greedy continuation: 8 steps of argmax over the last position of a full forward of prompt +
tokens so far (no KV cache, no EOS stop). generate(do_sample=False) with the cache is run too
and recorded for comparison only.

Runs on CPU in float32 with attn_implementation="eager" and TF32 off (spec §12). A seed is
accepted only when no greedy step and no router decision is a near-tie; otherwise the next seed
is tried (golden.json records the seed and the margins).

Usage (on a machine with PyTorch + transformers, e.g. the GPU machine):
  python3 tests/parity/make_goldens.py --out /tmp/parity [--cases mixtral,qwen3_moe] [--src]
then copy OUT/<case>/ to tests/data/parity/<case>/. --src also copies the transformers modeling
files it ran into OUT/_src/ (for reading the installed code paths; not committed).
"""

import argparse
import hashlib
import importlib
import inspect
import json
import math
import os
import platform
import re
import shutil
import sys
import traceback

import numpy as np
import torch
import transformers

N_PROMPT = 48
N_GREEDY = 8
WEIGHT_STD = 0.15
GREEDY_MIN_MARGIN = 1e-3   # top-1 minus top-2, relative to max |logit| of that row
ROUTER_MIN_GAP = 1e-5      # k-th minus (k+1)-th selection score (probabilities / sigmoids)
MAX_SEED_TRIES = 12

COMMON = dict(vocab_size=256, hidden_size=64, num_hidden_layers=2, max_position_embeddings=512,
              tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, pad_token_id=0,
              initializer_range=WEIGHT_STD, attention_dropout=0.0)


def yarn(factor, original, mscale, mscale_all_dim):
    return dict(rope_type="yarn", factor=float(factor), original_max_position_embeddings=original,
                beta_fast=32.0, beta_slow=1.0, mscale=mscale, mscale_all_dim=mscale_all_dim)


# name -> (config class, description, kwargs, rope_theta, yarn or None)
CASES = {
    "mixtral": ("MixtralConfig",
                "Mixtral: GQA 8 query heads / 2 KV heads (head_dim 8), 4 experts top-2 renormalized, theta 1e6",
                dict(num_attention_heads=8, num_key_value_heads=2, head_dim=8, intermediate_size=16,
                     num_local_experts=4, num_experts_per_tok=2, rms_norm_eps=1e-5, sliding_window=None,
                     router_jitter_noise=0.0), 1e6, None),
    "qwen2_moe": ("Qwen2MoeConfig",
                  "Qwen2-MoE: qkv bias, GQA 4/2, 4 experts top-2 (norm_topk_prob false), sigmoid-gated shared "
                  "expert, layer 1 dense via mlp_only_layers",
                  dict(num_attention_heads=4, num_key_value_heads=2, num_experts=4, num_experts_per_tok=2,
                       moe_intermediate_size=16, shared_expert_intermediate_size=32, intermediate_size=32,
                       decoder_sparse_step=1, mlp_only_layers=[1], norm_topk_prob=False, rms_norm_eps=1e-6,
                       use_sliding_window=False), 1e6, None),
    "qwen3_moe": ("Qwen3MoeConfig",
                  "Qwen3-MoE: per-head qk-norm, explicit head_dim 24 (nh*d=96 != hidden 64), GQA 4/2, 8 experts "
                  "top-3 renormalized",
                  dict(num_attention_heads=4, num_key_value_heads=2, head_dim=24, num_experts=8,
                       num_experts_per_tok=3, moe_intermediate_size=16, intermediate_size=32,
                       decoder_sparse_step=1, mlp_only_layers=[], norm_topk_prob=True, rms_norm_eps=1e-6,
                       attention_bias=False, use_sliding_window=False), 1e6, None),
    "olmoe": ("OlmoeConfig",
              "OLMoE: full-width q/k RMSNorm before the head split, 8 experts top-2 not renormalized",
              dict(num_attention_heads=4, num_key_value_heads=4, intermediate_size=16, num_experts=8,
                   num_experts_per_tok=2, norm_topk_prob=False, rms_norm_eps=1e-5, clip_qkv=None,
                   attention_bias=False), 10000.0, None),
    "llama": ("LlamaConfig", "Llama dense: GQA 4/2, SwiGLU 32",
              dict(num_attention_heads=4, num_key_value_heads=2, intermediate_size=32, rms_norm_eps=1e-5,
                   attention_bias=False, mlp_bias=False), 10000.0, None),
    "qwen2": ("Qwen2Config", "Qwen2 dense: qkv bias, GQA 4/2, SwiGLU 32",
              dict(num_attention_heads=4, num_key_value_heads=2, intermediate_size=32, rms_norm_eps=1e-6,
                   use_sliding_window=False), 1e6, None),
    "qwen3": ("Qwen3Config", "Qwen3 dense: per-head qk-norm, head_dim 24, GQA 4/2, SwiGLU 32",
              dict(num_attention_heads=4, num_key_value_heads=2, head_dim=24, intermediate_size=32,
                   rms_norm_eps=1e-6, attention_bias=False, use_sliding_window=False), 1e6, None),
    "deepseek_v2_lite": ("DeepseekV2Config",
                         "DeepSeek-V2-Lite-like: MLA without q_lora (plain q_proj), kv_lora 32, nope/rope/v "
                         "16/16/24, softmax greedy top-3 of 8 (no renormalization, scale 1.0), 2 shared experts, "
                         "first_k_dense_replace 1, YaRN factor 8 (L0 128, mscale = mscale_all_dim = 0.707)",
                         dict(num_attention_heads=4, num_key_value_heads=4, q_lora_rank=None, kv_lora_rank=32,
                              qk_nope_head_dim=16, qk_rope_head_dim=16, v_head_dim=24, intermediate_size=32,
                              moe_intermediate_size=16, n_routed_experts=8, n_shared_experts=2,
                              num_experts_per_tok=3, first_k_dense_replace=1, topk_method="greedy",
                              n_group=None, topk_group=None, norm_topk_prob=False, routed_scaling_factor=1.0,
                              rms_norm_eps=1e-6, max_position_embeddings=1024),
                         10000.0, yarn(8, 128, 0.707, 0.707)),
    "deepseek_v2_group": ("DeepseekV2Config",
                          "DeepSeek-V2-like: MLA with q_lora 32, group_limited_greedy (4 groups, keep 2), softmax "
                          "top-3 of 8, routed_scaling_factor 1.7, 1 shared expert, first_k_dense_replace 1, YaRN "
                          "factor 16 (L0 64, mscale = mscale_all_dim = 1.0)",
                          dict(num_attention_heads=4, num_key_value_heads=4, q_lora_rank=32, kv_lora_rank=32,
                               qk_nope_head_dim=16, qk_rope_head_dim=16, v_head_dim=24, intermediate_size=32,
                               moe_intermediate_size=16, n_routed_experts=8, n_shared_experts=1,
                               num_experts_per_tok=3, first_k_dense_replace=1, topk_method="group_limited_greedy",
                               n_group=4, topk_group=2, norm_topk_prob=False, routed_scaling_factor=1.7,
                               rms_norm_eps=1e-6, max_position_embeddings=1024),
                          10000.0, yarn(16, 64, 1.0, 1.0)),
    "deepseek_v3": ("DeepseekV3Config",
                    "DeepSeek-V3-like: MLA with q_lora 32, sigmoid + e_score_correction_bias noaux_tc, 8 experts "
                    "in 2 groups of 4 (keep 1; group score = top-2 sum), top-3, norm_topk_prob true, "
                    "routed_scaling_factor 2.5, 1 shared expert, first_k_dense_replace 1, YaRN factor 4 (L0 256, "
                    "mscale 1.0, mscale_all_dim 0.8: attention_factor != 1)",
                    dict(num_attention_heads=4, num_key_value_heads=4, q_lora_rank=32, kv_lora_rank=32,
                         qk_nope_head_dim=16, qk_rope_head_dim=16, v_head_dim=24, intermediate_size=32,
                         moe_intermediate_size=16, n_routed_experts=8, n_shared_experts=1, num_experts_per_tok=3,
                         first_k_dense_replace=1, n_group=2, topk_group=1, norm_topk_prob=True,
                         routed_scaling_factor=2.5, rms_norm_eps=1e-6, max_position_embeddings=1024),
                    10000.0, yarn(4, 256, 1.0, 0.8)),
    "deepseek_v3_noq": ("DeepseekV3Config",
                        "DeepSeek-V3-like without q_lora (plain q_proj), noaux_tc with 4 groups of 2 (keep 2), "
                        "top-2, norm_topk_prob true, routed_scaling_factor 2.5, every layer MoE, plain RoPE",
                        dict(num_attention_heads=4, num_key_value_heads=4, q_lora_rank=None, kv_lora_rank=32,
                             qk_nope_head_dim=16, qk_rope_head_dim=16, v_head_dim=24, intermediate_size=32,
                             moe_intermediate_size=16, n_routed_experts=8, n_shared_experts=1,
                             num_experts_per_tok=2, first_k_dense_replace=0, n_group=4, topk_group=2,
                             norm_topk_prob=True, routed_scaling_factor=2.5, rms_norm_eps=1e-6),
                        10000.0, None),
}


def log(*a):
    print(*a, flush=True)


def make_config(case):
    cls_name, _, kw, theta, scaling = CASES[case]
    cls = getattr(transformers, cls_name)
    kwargs = dict(COMMON)
    kwargs.update(kw)
    params = inspect.signature(cls.__init__).parameters
    if "rope_parameters" in params:
        rp = {"rope_type": "default", "rope_theta": theta}
        if scaling:
            rp.update(scaling)
        kwargs["rope_parameters"] = rp
    else:  # transformers 4 spelling
        kwargs["rope_theta"] = theta
        if scaling:
            s = dict(scaling)
            s["type"] = s["rope_type"]
            kwargs["rope_scaling"] = s
    dropped = []
    while True:  # a key this transformers version does not know is dropped and reported
        try:
            cfg = cls(**kwargs)
            break
        except TypeError as e:
            m = re.search(r"unexpected keyword argument '(\w+)'", str(e))
            if not m or m.group(1) not in kwargs:
                raise
            dropped.append(m.group(1))
            del kwargs[m.group(1)]
    return cfg, dropped


def build_model(cfg):
    try:
        model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    except TypeError:
        model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="eager", torch_dtype=torch.float32)
    return model.float().eval()


def randomize(model, seed):
    """Overwrites every parameter (and the V3 selection bias) from one seeded generator."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if p.dim() == 1 and "norm" in name:
                p.copy_(1.0 + 0.1 * r)
            elif p.dim() == 1:  # biases (q/k/v of Qwen2)
                p.copy_(0.2 * r)
            else:
                p.copy_(WEIGHT_STD * r)
        for name, b in model.named_buffers():
            if name.endswith("e_score_correction_bias"):
                # Non-negative, so every biased selection score stays > 0 and the 0.0 fill of masked
                # groups never ties with a kept expert (a tie would make topk's pick arbitrary).
                b.copy_(0.3 * torch.rand(b.shape, generator=g, dtype=torch.float32))


def layers_of(model):
    return model.model.layers


def moe_blocks(model):
    out = []
    for il, layer in enumerate(layers_of(model)):
        for attr in ("mlp", "block_sparse_moe"):
            m = getattr(layer, attr, None)
            if m is not None and hasattr(m, "experts") and hasattr(m, "gate"):
                out.append((il, m))
                break
    return out


def router_gaps(cfg, block, x):
    """Smallest k-th vs (k+1)-th margin of the selection scores (and of the group scores)."""
    W = block.gate.weight.detach().double()
    x = x.reshape(-1, x.shape[-1]).double()
    logits = x @ W.T
    scoring = getattr(cfg, "scoring_func", None) or ("sigmoid" if cfg.model_type == "deepseek_v3" else "softmax")
    s = torch.sigmoid(logits) if scoring == "sigmoid" else torch.softmax(logits, dim=-1)
    bias = getattr(block.gate, "e_score_correction_bias", None)
    sel = s + bias.double() if bias is not None else s
    k = cfg.num_experts_per_tok
    E = sel.shape[-1]
    method = getattr(cfg, "topk_method", None)
    if cfg.model_type == "deepseek_v3":
        method = "noaux_tc"
    gaps = []
    if method in ("group_limited_greedy", "noaux_tc") and (getattr(cfg, "n_group", None) or 1) > 1:
        G, kg = cfg.n_group, cfg.topk_group
        grouped = sel.view(-1, G, E // G)
        gs = grouped.max(dim=-1).values if method == "group_limited_greedy" else grouped.topk(2, dim=-1)[0].sum(-1)
        srt = gs.sort(dim=-1, descending=True).values
        gaps.append(float((srt[:, kg - 1] - srt[:, kg]).min()))
        keep = torch.zeros_like(gs).scatter_(1, gs.topk(kg, dim=-1)[1], 1.0)
        mask = keep.unsqueeze(-1).expand(-1, G, E // G).reshape(-1, E)
        sel = sel.masked_fill(mask == 0, 0.0)
    srt = sel.sort(dim=-1, descending=True).values
    gaps.append(float((srt[:, k - 1] - srt[:, k]).min()))
    return min(gaps)


def forward_logits(model, ids):
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids], dtype=torch.long)).logits[0].float()


def run_with_hooks(model, cfg, ids):
    """Logits [T, V], per-layer outputs [L, T, H] and the smallest router gap over ids."""
    captured, outs, handles = [], [], []
    for _, block in moe_blocks(model):
        def pre(mod, args, kwargs, b=block):
            x = args[0] if args else next(iter(kwargs.values()))
            captured.append((b, x.detach().clone()))
        handles.append(block.register_forward_pre_hook(pre, with_kwargs=True))
    for layer in layers_of(model):
        handles.append(layer.register_forward_hook(
            lambda mod, args, out: outs.append((out[0] if isinstance(out, tuple) else out).detach().clone())))
    try:
        logits = forward_logits(model, ids)
    finally:
        for h in handles:
            h.remove()
    gap = min([router_gaps(cfg, b, x) for b, x in captured], default=None)  # None: no MoE layer
    hidden = torch.stack([o[0] for o in outs]).float()
    return logits, hidden, gap


def greedy(model, ids):
    seq, margins = list(ids), []
    for _ in range(N_GREEDY):
        row = forward_logits(model, seq)[-1]
        top = torch.topk(row, 2)
        margins.append(float((top.values[0] - top.values[1]) / row.abs().max()))
        seq.append(int(top.indices[0]))
    return seq[len(ids):], margins


def code_path_notes(model, cfg):
    notes = {}
    rot = getattr(model.model, "rotary_emb", None)
    if rot is not None:
        notes["rope_attention_factor"] = float(getattr(rot, "attention_scaling", 1.0))
        if hasattr(rot, "inv_freq"):
            notes["rope_inv_freq"] = [float(v) for v in rot.inv_freq.detach().double()]
        notes["rope_type"] = str(getattr(rot, "rope_type", "?"))
    attn = layers_of(model)[0].self_attn
    notes["attention_class"] = type(attn).__name__
    notes["attn_implementation_used"] = str(getattr(cfg, "_attn_implementation", "?"))
    notes["attention_scaling"] = float(getattr(attn, "scaling", float("nan")))
    if cfg.model_type.startswith("deepseek"):
        qk = cfg.qk_nope_head_dim + cfg.qk_rope_head_dim
        base = qk ** -0.5
        rp = getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None) or {}
        m = 1.0
        if rp.get("rope_type", rp.get("type", "default")) not in ("default", None) and rp.get("mscale_all_dim"):
            f = rp["factor"]
            m = 0.1 * rp["mscale_all_dim"] * math.log(f) + 1.0 if f > 1 else 1.0
        notes["softmax_scale_base"] = base
        notes["yarn_mscale_all_dim_m"] = m
        notes["applies_yarn_mscale_squared"] = bool(abs(notes["attention_scaling"] - base * m * m) < 1e-9 * base) \
            if m != 1.0 else "n/a (no mscale_all_dim)"
        notes["rope_interleave"] = bool(getattr(cfg, "rope_interleave", True)) \
            if cfg.model_type == "deepseek_v3" else "deepseek_v2 complex multiply (apply_rotary_emb)"
        notes["topk_method"] = getattr(cfg, "topk_method", "noaux_tc (deepseek_v3 only method)")
    blocks = moe_blocks(model)
    if blocks:
        b = blocks[0][1]
        notes["moe_block_class"] = type(b).__name__
        notes["experts_class"] = type(b.experts).__name__
        notes["experts_in_memory"] = {n: list(p.shape) for n, p in b.experts.named_parameters()}
        try:
            notes["experts_forward_source"] = inspect.getsource(type(b.experts).forward)
        except Exception as e:  # source not available
            notes["experts_forward_source"] = repr(e)
        for fn in ("route_tokens_to_experts",):
            if hasattr(b, fn):
                try:
                    notes["router_source"] = inspect.getsource(getattr(type(b), fn))
                except Exception as e:
                    notes["router_source"] = repr(e)
    notes["moe_layers"] = [il for il, _ in blocks]
    return notes


def safetensors_keys(folder):
    from safetensors import safe_open
    keys = {}
    for fn in sorted(os.listdir(folder)):
        if fn.endswith(".safetensors"):
            with safe_open(os.path.join(folder, fn), framework="pt") as f:
                for k in f.keys():
                    t = f.get_tensor(k)
                    keys[k] = {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")}
    return keys


def try_generate(model, ids):
    try:
        gc = transformers.GenerationConfig(do_sample=False, max_new_tokens=N_GREEDY, min_new_tokens=N_GREEDY,
                                           pad_token_id=0, eos_token_id=None, bos_token_id=1, use_cache=True)
        with torch.no_grad():
            out = model.generate(torch.tensor([ids], dtype=torch.long), generation_config=gc)
        return [int(t) for t in out[0][len(ids):]], None
    except Exception as e:
        return None, "".join(traceback.format_exception_only(type(e), e)).strip()


def make_case(case, out_root, base_seed):
    cls_name, desc, _, _, _ = CASES[case]
    cfg, dropped_keys = make_config(case)
    tries = []
    for t in range(MAX_SEED_TRIES):
        seed = base_seed + 1000 * t
        torch.manual_seed(seed)
        model = build_model(cfg)
        randomize(model, seed)
        g = torch.Generator().manual_seed(seed + 7)
        ids = [int(v) for v in torch.randint(3, cfg.vocab_size, (N_PROMPT,), generator=g)]
        cont, margins = greedy(model, ids)
        _, _, gap = run_with_hooks(model, cfg, ids + cont)
        tries.append({"seed": seed, "min_greedy_margin": min(margins), "min_router_gap": gap})
        log(f"  [{case}] seed {seed}: min greedy margin {min(margins):.3g}, min router gap {gap}")
        if min(margins) >= GREEDY_MIN_MARGIN and (gap is None or gap >= ROUTER_MIN_GAP):
            break
    else:
        raise RuntimeError(f"{case}: no seed without near-ties in {MAX_SEED_TRIES} tries")

    folder = os.path.join(out_root, case)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        model.save_pretrained(folder, safe_serialization=True)
    except TypeError:
        model.save_pretrained(folder)
    mem_logits, _, _ = run_with_hooks(model, cfg, ids)

    try:
        ref = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    except TypeError:
        ref = transformers.AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32,
                                                                attn_implementation="eager")
    ref = ref.float().eval()
    logits, hidden, _ = run_with_hooks(ref, ref.config, ids)
    cont_ref, margins_ref = greedy(ref, ids)
    _, _, gap_full = run_with_hooks(ref, ref.config, ids + cont_ref)
    gen, gen_err = try_generate(ref, ids)

    np.save(os.path.join(folder, "logits.npy"), logits.numpy().astype(np.float32))
    np.save(os.path.join(folder, "hidden.npy"), hidden.numpy().astype(np.float32))
    keys = safetensors_keys(folder)
    golden = {
        "case": case,
        "description": desc,
        "config_class": cls_name,
        "model_class": type(ref).__name__,
        "made_by": "transformers (tests/parity/make_goldens.py), never by MoE Studio",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "device": "cpu",
        "dtype": "float32",
        "attn_implementation": "eager",
        "tf32": False,
        "seed": tries[-1]["seed"],
        "seed_tries": tries,
        "prompt_ids": ids,
        "greedy_ids": cont_ref,
        "greedy_method": "repeated full forward of prompt + tokens so far (no KV cache), argmax of the last "
                         "position, no EOS stop",
        "greedy_margins_relative": margins_ref,
        "min_router_gap": gap_full,
        "generate_ids": gen,
        "generate_error": gen_err,
        "generate_matches_full_forward_greedy": gen == cont_ref if gen is not None else None,
        "logits_file": "logits.npy",
        "logits_shape": list(logits.shape),
        "logits_max_abs": float(logits.abs().max()),
        "hidden_file": "hidden.npy (output of each decoder layer over the prompt; debugging aid)",
        "reload_vs_in_memory_max_abs_diff": float((logits - mem_logits).abs().max()),
        "reload_greedy_matches_in_memory": cont_ref == cont,
        "notes": code_path_notes(ref, ref.config),
        "config_keys_dropped": dropped_keys,
        "safetensors": keys,
        "files": sorted(os.listdir(folder)),
    }
    with open(os.path.join(folder, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
    size = sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder))
    log(f"  [{case}] saved {len(keys)} tensors, {size / 1024:.0f} KiB; reload diff "
        f"{golden['reload_vs_in_memory_max_abs_diff']:.3g}; greedy {cont_ref}; generate match "
        f"{golden['generate_matches_full_forward_greedy']} {gen_err or ''}")
    return golden


def copy_sources(out_root):
    dst = os.path.join(out_root, "_src")
    os.makedirs(dst, exist_ok=True)
    mods = ["transformers.modeling_rope_utils", "transformers.conversion_mapping", "transformers.core_model_loading",
            "transformers.integrations.moe"]
    for fam in ("mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "llama", "qwen2", "qwen3", "deepseek_v2",
                "deepseek_v3"):
        mods += [f"transformers.models.{fam}.modeling_{fam}", f"transformers.models.{fam}.configuration_{fam}"]
    digests = {}
    for name in mods:
        try:
            path = inspect.getsourcefile(importlib.import_module(name))
            shutil.copy(path, os.path.join(dst, name.replace(".", "_") + ".py"))
            with open(path, "rb") as f:
                digests[name] = hashlib.sha256(f.read()).hexdigest()
        except Exception as e:
            digests[name] = "unavailable: " + repr(e)
    return digests


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--src", action="store_true", help="copy the transformers sources it ran into OUT/_src")
    args = ap.parse_args()

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    torch.set_default_dtype(torch.float32)
    os.makedirs(args.out, exist_ok=True)
    log(f"transformers {transformers.__version__}, torch {torch.__version__}, numpy {np.__version__}, "
        f"python {platform.python_version()}")

    summary = {"transformers_version": transformers.__version__, "torch_version": torch.__version__,
               "cases": {}, "dropped": {}}
    if args.src:
        summary["source_sha256"] = copy_sources(args.out)
    for i, case in enumerate(args.cases.split(",")):
        log(f"case {case}")
        try:
            g = make_case(case, args.out, base_seed=1234 + 17 * i)
            summary["cases"][case] = {"greedy_ids": g["greedy_ids"], "notes": {
                k: v for k, v in g["notes"].items() if not k.endswith("_source")}}
        except Exception:
            tb = traceback.format_exc()
            log(tb)
            summary["dropped"][case] = tb
            shutil.rmtree(os.path.join(args.out, case), ignore_errors=True)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    log("made: " + ", ".join(summary["cases"]) + "; dropped: " + (", ".join(summary["dropped"]) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
