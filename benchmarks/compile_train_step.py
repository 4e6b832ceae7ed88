"""Is a torch.compile'd training step faster than eager for a CIFAR model? Side by side in one process.

    python benchmarks/compile_train_step.py densenet_bc_52_k12     # prints eager ms, compiled ms, speedup

bf16 autocast, channels_last, batch 128 at 32 px, SGD step, one torch thread (as the CIFAR recipes train);
both sides warm up (the compiled one compiles), then 3 interleaved rounds of 3 steps; medians. Used to decide
which recipes set ``compile: true``.
"""
import time, torch, cnnzoo, statistics, sys
torch.set_num_threads(1)
arch = sys.argv[1]
def mk(compiled):
    torch.manual_seed(0)
    m = cnnzoo.create_model(arch).train()
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    f = torch.compile(m) if compiled else m
    return f, opt
x = torch.randn(128,3,32,32).contiguous(memory_format=torch.channels_last); y = torch.randint(0,10,(128,))
def step(f,opt):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = torch.nn.functional.cross_entropy(f(x).float(), y)
    loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
sides = {k: mk(k) for k in (False, True)}
t=time.time()
for k,(f,o) in sides.items():
    for _ in range(2): step(f,o)
print("warmup+compile", round(time.time()-t,1), flush=True)
res={False:[],True:[]}
for r in range(3):
    for k,(f,o) in sides.items():
        t=time.perf_counter()
        for _ in range(3): step(f,o)
        res[k].append((time.perf_counter()-t)/3)
e, c = statistics.median(res[False]), statistics.median(res[True])
print(arch, "eager ms", round(e*1000), "compiled ms", round(c*1000), "speedup", round(e/c,2))
