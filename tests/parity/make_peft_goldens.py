#!/usr/bin/env python3
"""LoRA parity goldens made by transformers + PEFT, for tests/engine/test-peft-parity.

For each tiny model of tests/data/parity/<case> (transformers-made, float32), this script wraps
the model with a PEFT LoRA adapter (random A and B: init_lora_weights=False, so every gradient is
non-zero), saves the adapter (save_pretrained: adapter_config.json + adapter_model.safetensors),
and computes on CPU in float32 with eager attention, model.eval() (no dropout):
  - logits.npy: the adapted model's logits of tokens.npy ([2, seq] int32);
  - loss and grads.safetensors: the causal-LM loss with labels.npy (-100 ignored, shifted inside)
    and the gradient of every adapter tensor, under the adapter file's own names;
  - adamw.safetensors: the adapter tensors after one torch.optim.AdamW step (lr 1e-2, weight
    decay 0.1) from those gradients.
Usage: python3 tests/parity/make_peft_goldens.py --data tests/data/parity --out DIR
then copy DIR/<case>/ to tests/data/peft/<case>/.
"""
import argparse, json, os, sys

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

CASES = {
    # case: target modules (PEFT suffix matching, as MoE Studio matches)
    "mixtral": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "qwen2_moe": ["q_proj", "k_proj", "v_proj", "o_proj", "shared_expert.gate_proj",
                  "shared_expert.up_proj", "shared_expert.down_proj"],
    "qwen3_moe": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "olmoe": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "llama": "all-linear",
    "qwen2": "all-linear",
    # (transformers 5 fuses DeepSeek's MLP gate/up projections, and PEFT 0.21 then targets the
    # fused parameters with a rank_pattern: tests/data/peft-fused-experts keeps one such adapter,
    # which MoE Studio refuses with a message.)
    "deepseek_v2_lite": ["q_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj"],
    "deepseek_v3": ["q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj"],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cases", default="", help="comma-separated subset of the cases")
    args = ap.parse_args()
    torch.manual_seed(0)
    summary = {"transformers": __import__("transformers").__version__,
               "peft": __import__("peft").__version__, "torch": torch.__version__, "cases": {}}
    for case, targets in CASES.items():
        if args.cases and case not in args.cases.split(","):
            continue
        src = os.path.join(args.data, case)
        out = os.path.join(args.out, case)
        os.makedirs(out, exist_ok=True)
        model = AutoModelForCausalLM.from_pretrained(src, torch_dtype=torch.float32,
                                                     attn_implementation="eager")
        model.eval()
        prompt = json.load(open(os.path.join(src, "golden.json")))["prompt_ids"]
        seq = len(prompt)
        tokens = np.array([prompt, prompt[::-1]], dtype=np.int32)
        labels = tokens.copy()
        labels[0, :3] = -100
        labels[1, -2] = -100
        torch.manual_seed(1234)
        cfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=targets,
                         init_lora_weights=False, bias="none", task_type="CAUSAL_LM")
        peft_model = get_peft_model(model, cfg)
        peft_model.eval()
        peft_model.save_pretrained(out)  # adapter_config.json + adapter_model.safetensors
        ids = torch.tensor(tokens, dtype=torch.long)
        lab = torch.tensor(labels, dtype=torch.long)
        res = peft_model(input_ids=ids, labels=lab)
        res.loss.backward()
        grads, names = {}, {}
        for n, p in peft_model.named_parameters():
            if p.requires_grad:
                key = n.replace(".default", "")
                grads[key] = p.grad.detach().clone().contiguous()
                names[n] = key
        save_file(grads, os.path.join(out, "grads.safetensors"))
        np.save(os.path.join(out, "tokens.npy"), tokens)
        np.save(os.path.join(out, "labels.npy"), labels)
        np.save(os.path.join(out, "logits.npy"), res.logits.detach().float().numpy().reshape(2 * seq, -1))
        params = [p for p in peft_model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=1e-2, weight_decay=0.1)
        opt.step()
        after = {names[n]: p.detach().clone().contiguous() for n, p in peft_model.named_parameters()
                 if p.requires_grad}
        save_file(after, os.path.join(out, "adamw.safetensors"))
        info = {"loss": float(res.loss), "targets": targets, "tensors": len(grads), "seq": seq}
        json.dump(info, open(os.path.join(out, "golden.json"), "w"), indent=1)
        summary["cases"][case] = info
        print(case, info, flush=True)
    json.dump(summary, open(os.path.join(args.out, "summary.json"), "w"), indent=1)


if __name__ == "__main__":
    sys.exit(main())
