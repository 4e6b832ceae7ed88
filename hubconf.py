"""torch.hub entry points, generated from the cnnzoo registry (no hand-kept list).

    torch.hub.load("<owner>/cnnzoo", "resnet20", pretrained="cifar10")
    torch.hub.load("/path/to/cnnzoo", "resnet20", source="local", pretrained=True)
"""
# Modules torch.hub checks before loading (tests/test_torch_hub.py derives them from what a load imports):
# huggingface_hub finds a weight in the Hub cache or downloads it; yaml reads recipes and model cards.
dependencies = ["torch", "safetensors", "huggingface_hub", "yaml"]

import cnnzoo as _cnnzoo  # noqa: E402


def _entrypoint(name):
    def entry(pretrained=False, **kwargs):
        return _cnnzoo.create_model(name, pretrained=pretrained, **kwargs)

    entry.__name__ = name
    entry.__doc__ = (f"{_cnnzoo.registry.get_model_spec(name).description}\n\n"
                     f"pretrained: False, True (default weight), a tag (see cnnzoo.list_models('{name}.*', "
                     f"pretrained=True)), a path to a .safetensors file or its folder, or 'hf-hub:ORG/NAME'. "
                     f"Other keyword arguments go to cnnzoo.create_model.")
    return entry


for _name in _cnnzoo.list_models():
    globals()[_name] = _entrypoint(_name)
del _name
