"""Everything about weights, in four sub-parts and the two modules that compose them:

- ``index/``       weights/index.json (the single source of truth) and its schema;
- ``files/``       safetensors reading and writing, sha256, atomic writes, and where a file is (resolution order);
- ``importers/``   torchvision / timm checkpoints: the equivalence table, converters, the ImageNet import table;
- ``publishing/``  the Hugging Face Hub layout, model cards, registering a finished training run;
- ``catalog``      every loadable weight name (indexed + importable);
- ``pretrained``   resolve + verify + load a weight into a model (``adapt``: new head, other input channels).
"""
