"""The CIFAR-10 job of main.ts, written against the Python package (cdk8s_deepspeed).

Run it as a cdk8s app (`cdk8s.yaml`: `app: python3 main.py`) or directly: `python3 main.py` writes
`dist/cifar10.k8s.yaml` and `dist/images/cifar10-image/Dockerfile`, the same files as the TypeScript
example (docs/python.md describes the CI job that compares them).
"""
from cdk8s import App, Chart, Size
from cdk8s_deepspeed import (
    BakedData, BaseImage, Cpu, DeepSpeedMpiJob, DeepSpeedOp, DeepSpeedTrainingImage, EnvValue, OptimizerType,
    SchedulerType, SourceCode, TaintEffect, Toleration, ZeroStage,
)

MICRO_BATCH = 8
WORKERS = 2

app = App()
chart = Chart(app, "cifar10")

# The image recipe: the script's repository at a pinned commit, its data baked in.
image = DeepSpeedTrainingImage(
    chart, "image",
    image_ref="registry.example.com/cifards:v0.0.1",
    base_image=BaseImage.pytorch(torch_version="2.4.1", cuda_version="12.4", cudnn_version="9"),
    deepspeed_version="0.16.3",
    pip_packages={"pillow": "10.4.0", "matplotlib": "3.9.2"},
    source=SourceCode.from_git_repository(
        "https://github.com/deepspeedai/DeepSpeedExamples", "0e0e2ef307dd3d0298b96c4bffea37f6701aee3e"),
    data=[BakedData.torchvision_dataset("CIFAR10", "data")],
    prebuilt_ops=[DeepSpeedOp.FUSED_ADAM],
)

DeepSpeedMpiJob(
    chart, "train",
    image=image,
    workers={
        "replicas": WORKERS,
        "gpus_per_worker": 1,
        "cpu": Cpu.units(8),
        "memory": Size.gibibytes(32),
        "tolerations": [
            Toleration.equal("nodepool", "nodepool-256ram32cpu2gpu-0", effect=TaintEffect.NO_SCHEDULE),
            Toleration.equal("nvidia.com/gpu", "present", effect=TaintEffect.NO_SCHEDULE),
        ],
    },
    script="training/cifar/cifar10_deepspeed.py",
    args=["--deepspeed"],
    env={"NCCL_DEBUG": EnvValue.from_value("INFO")},
    mpirun={"mca_parameters": {"pml": "ob1", "btl": "^openib"}},
    deepspeed_config={
        "train_batch_size": MICRO_BATCH * WORKERS,
        "train_micro_batch_size_per_gpu": MICRO_BATCH,
        "gradient_accumulation_steps": 1,
        "steps_per_print": 2000,
        "optimizer": {"kind": OptimizerType.ADAM, "lr": 0.001, "betas": [0.8, 0.999], "eps": 1e-8, "weight_decay": 3e-7},
        "scheduler": {"kind": SchedulerType.WARMUP_LR, "warmup_min_lr": 0, "warmup_max_lr": 0.001, "warmup_num_steps": 1000},
        "gradient_clipping": 1.0,
        "prescale_gradients": False,
        "fp16": {
            "enabled": True,
            "fp16_master_weights_and_grads": False,
            "loss_scale": 0,
            "loss_scale_window": 500,
            "hysteresis": 2,
            "min_loss_scale": 1,
            "initial_scale_power": 15,
        },
        "wall_clock_breakdown": False,
        "zero_optimization": {
            "stage": ZeroStage.STAGE_0,
            "allgather_partitions": True,
            "reduce_scatter": True,
            "allgather_bucket_size": 50_000_000,
            "reduce_bucket_size": 50_000_000,
            "overlap_comm": True,
            "contiguous_gradients": True,
        },
    },
)

app.synth()
