"""cnnzoo export MODEL[.TAG] OUT [--format onnx|torchscript] [--img-size S] [--optimize]"""
from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("model", help="architecture (resnet20) or weight (resnet20.cifar10: loads its weights)")
    p.add_argument("out", help="output file: .onnx for ONNX, .pt / .pth / .ts for TorchScript")
    p.add_argument("--format", choices=["onnx", "torchscript"],
                   help="onnx or torchscript (default: the one OUT's extension names)")
    p.add_argument("--img-size", type=int, default=None, help="input size (default: the model's)")
    p.add_argument("--num-classes", type=int, default=None, help="classifier size (default: the model's)")
    p.add_argument("--optimize", action="store_true", help="fold BatchNorm into the convs first")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset")
    p.add_argument("--dynamo", action="store_true", help="use the torch.export ONNX exporter (needs onnxscript)")


def run(args) -> int:
    from cnnzoo.factory import create_model
    from cnnzoo.deploy.export import check_extension, export_model, format_for
    from cnnzoo.registry import split_model_name_tag

    args.format = args.format or format_for(args.out)
    check_extension(args.out, args.format)  # before building or loading anything
    _, tag = split_model_name_tag(args.model)
    model = create_model(args.model, pretrained=tag is not None, num_classes=args.num_classes)
    extra = dict(opset=args.opset, dynamo=args.dynamo) if args.format == "onnx" else {}
    path = export_model(model, args.out, args.format, img_size=args.img_size, optimize=args.optimize, **extra)
    size_mb = path.stat().st_size / 2 ** 20
    c, h, w = model.pretrained_cfg["input_size"]
    size = (c, args.img_size, args.img_size) if args.img_size else (c, h, w)
    print(f"wrote {path} ({args.format}, {size_mb:.1f} MB, input (batch, {', '.join(map(str, size))}), "
          f"dynamic batch)")
    return 0
