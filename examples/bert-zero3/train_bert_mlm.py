"""Masked-language-model pretraining of a BERT encoder with DeepSpeed, started by mpirun.

The MPI Operator's launcher runs `mpirun ... python train_bert_mlm.py`. DeepSpeed asks MPI
(through mpi4py) for each rank's rank, local rank and world size and for rank 0's address, so
the script takes no --local_rank. Everything DeepSpeed owns (ZeRO stage and
offload, precision, batch sizes, optimizer, scheduler) comes from --deepspeed_config; the
script owns the model, the data and the checkpoint loop.

Tokens are the bytes of a UTF-8 text file, so training needs no tokenizer and no download.
"""
import argparse

import deepspeed
import numpy as np
import torch
from deepspeed import comm
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from transformers import BertConfig, BertForMaskedLM

# Byte values are tokens 0-255; the special tokens follow. 264 keeps the vocabulary a
# multiple of 8 for tensor cores.
CLS, SEP, MASK = 256, 257, 258
VOCAB_SIZE = 264
IGNORED_LABEL = -100  # the label BertForMaskedLM's loss skips


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--train_file', required=True, help='UTF-8 text corpus, read through a memory map')
    parser.add_argument('--checkpoint_dir', required=True,
                        help='directory shared by every rank; training resumes from its latest checkpoint')
    parser.add_argument('--max_steps', type=int, default=20000, help='optimizer steps to train for')
    parser.add_argument('--save_interval', type=int, default=1000, help='optimizer steps between checkpoints')
    parser.add_argument('--log_interval', type=int, default=100, help='optimizer steps between loss reports')
    parser.add_argument('--seq_length', type=int, default=512, help='tokens per sample, CLS and SEP included')
    parser.add_argument('--num_layers', type=int, default=24)
    parser.add_argument('--hidden_size', type=int, default=1024)
    parser.add_argument('--num_heads', type=int, default=16)
    parser.add_argument('--mask_probability', type=float, default=0.15)
    parser.add_argument('--seed', type=int, default=1234)
    # Adds --deepspeed and --deepspeed_config.
    return deepspeed.add_config_arguments(parser).parse_args()


class ByteCorpus(Dataset):
    """Consecutive windows of a file's bytes, masked the way BERT masks its inputs."""

    def __init__(self, path: str, seq_length: int, mask_probability: float):
        # A memory map: the ranks on a node share the page cache instead of each holding a copy.
        self.data = np.memmap(path, dtype=np.uint8, mode='r')
        self.window = seq_length - 2
        self.mask_probability = mask_probability

    def __len__(self) -> int:
        return len(self.data) // self.window

    def __getitem__(self, index: int) -> dict:
        body = torch.from_numpy(np.array(self.data[index * self.window:(index + 1) * self.window], dtype=np.int64))
        ids = torch.cat([torch.tensor([CLS]), body, torch.tensor([SEP])])
        labels = torch.full_like(ids, IGNORED_LABEL)
        chosen = torch.rand(len(ids)) < self.mask_probability
        chosen[0] = chosen[-1] = False
        labels[chosen] = ids[chosen]
        # Of the chosen tokens, 80% become MASK, 10% a random byte and 10% stay as they are.
        roll = torch.rand(len(ids))
        ids[chosen & (roll < 0.8)] = MASK
        randomized = chosen & (roll >= 0.8) & (roll < 0.9)
        ids[randomized] = torch.randint(0, 256, (int(randomized.sum()),))
        return {'input_ids': ids, 'labels': labels}


def initialize_weights(model: torch.nn.Module, std: float) -> None:
    """BERT's initialization. Under ZeRO-3 each rank holds only a slice of every parameter, so the
    parameters of one module at a time are gathered, set by rank 0 and partitioned again."""
    for module in model.modules():
        params = dict(module.named_parameters(recurse=False))
        if not params:
            continue
        with deepspeed.zero.GatheredParameters(list(params.values()), modifier_rank=0), torch.no_grad():
            if comm.get_rank() != 0:
                continue
            for name, param in params.items():
                if name == 'bias':
                    param.zero_()
                elif isinstance(module, torch.nn.LayerNorm):
                    param.fill_(1.0)
                else:
                    param.normal_(0.0, std)


def main() -> None:
    args = parse_args()
    deepspeed.init_distributed()
    torch.manual_seed(args.seed)

    config = BertConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=args.hidden_size,
        num_hidden_layers=args.num_layers,
        num_attention_heads=args.num_heads,
        intermediate_size=4 * args.hidden_size,
        max_position_embeddings=args.seq_length,
        # Samples are never padded. An embedding padding index would also make transformers' own
        # initialization index a partitioned (empty) weight and fail under ZeRO-3.
        pad_token_id=None,
    )
    # ZeRO-3 partitions each parameter as soon as its module is built (and, with parameter
    # offload, keeps the partitions in host memory), so no rank ever holds the whole model.
    # transformers' initialization then sees empty tensors, hence initialize_weights.
    with deepspeed.zero.Init(config_dict_or_path=args.deepspeed_config):
        model = BertForMaskedLM(config)
    initialize_weights(model, config.initializer_range)

    engine, _, _, _ = deepspeed.initialize(args=args, model=model, model_parameters=model.parameters())

    dataset = ByteCorpus(args.train_file, args.seq_length, args.mask_probability)
    sampler = DistributedSampler(dataset, num_replicas=comm.get_world_size(), rank=comm.get_rank(), seed=args.seed)
    loader = DataLoader(dataset, batch_size=engine.train_micro_batch_size_per_gpu(), sampler=sampler,
                        drop_last=True, num_workers=2, pin_memory=True)

    # Every rank reads its own ZeRO shards back; with no checkpoint yet, training starts at step 0.
    engine.load_checkpoint(args.checkpoint_dir)

    engine.train()
    epoch = 0
    while engine.global_steps < args.max_steps:
        sampler.set_epoch(epoch)
        for batch in loader:
            loss = engine(**{name: tensor.to(engine.device) for name, tensor in batch.items()}).loss
            engine.backward(loss)
            stepping = engine.is_gradient_accumulation_boundary()
            engine.step()
            if not stepping:
                continue
            step = engine.global_steps
            if step % args.log_interval == 0 and comm.get_rank() == 0:
                print(f'step {step} loss {loss.item():.4f}', flush=True)
            # Every rank writes its own shards: a collective call, and the reason the directory is shared.
            if step % args.save_interval == 0 or step == args.max_steps:
                engine.save_checkpoint(args.checkpoint_dir)
            if step >= args.max_steps:
                break
        epoch += 1


if __name__ == '__main__':
    main()
