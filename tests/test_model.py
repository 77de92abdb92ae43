"""The module model: what rules may rely on."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst

from reslint.knowledge.naming import names_stride
from reslint.model import build_module_model
from reslint.model.queries import describe, layer_sequences, residuals
from reslint.model.stores import assigned_name, liveness
from reslint.model.symbolic import (
    Comparison,
    Relation,
    combine,
    const,
    reads_a_stride,
    relation,
    var,
)
from reslint.model.values import options
from reslint.model.walk import descendants
from reslint.model.widening import widening_identities


def model_of(source: str):
    source = textwrap.dedent(source)
    return build_module_model(cst.parse_module(source), source, "m.py")


def test_relation_is_a_numeric_identity_test() -> None:
    planes = var("planes")
    assert relation(combine("*", [planes, const(1)]), planes) is Relation.EQUAL
    assert relation(combine("*", [planes, const(4)], "planes * 4"), planes) is Relation.DIFFERENT
    # Two differently named sizes are not "different" by their names alone.
    assert relation(var("in_chs"), var("out_chs")) is Relation.UNKNOWN


def test_a_stride_is_named_by_what_its_spellings_share() -> None:
    """`strid` decides, once for every question: a name cut short (`down_sample_strid`) is a stride."""
    for name in ("stride", "strides", "Stride", "down_stride", "self.stride", "down_sample_strid"):
        assert names_stride(name), name
    for name in ("planes", "stage", "strict", "dilation", "restrict_size"):
        assert not names_stride(name), name
    assert reads_a_stride(combine("*", [var("first_strid"), const(2)]))
    assert not reads_a_stride(combine("*", [var("planes"), const(2)]))


def test_a_condition_may_come_out_either_way_only_where_it_cannot_be_evaluated() -> None:
    strided = Comparison("NotEqual", var("stride"), const(1))

    def at_two(name: str, _domain: tuple) -> float | None:
        return 2 if name == "stride" else None

    def unknown(_name: str, _domain: tuple) -> float | None:
        return None

    assert strided.may_be(True, at_two) and not strided.may_be(False, at_two)
    assert strided.may_be(True, unknown) and strided.may_be(False, unknown)


def test_channels_are_followed_through_helpers_in_the_users_words() -> None:
    model = model_of("""
        import torch.nn as nn
        def conv1x1(in_planes, out_planes, stride=1):
            return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)
        class Bottleneck(nn.Module):
            expansion = 4
            def __init__(self, inplanes, planes, groups=1, base_width=64):
                super().__init__()
                width = int(planes * (base_width / 64.0)) * groups
                self.conv3 = conv1x1(width, planes * self.expansion)
                self.bn3 = nn.BatchNorm2d(planes * self.expansion)
            def forward(self, x):
                return self.bn3(self.conv3(x))
    """)
    layers = model.class_named("Bottleneck").generic.layers()
    assert str(layers["conv3"].channels_in) == "width"
    assert str(layers["conv3"].channels_out) == "planes * self.expansion"
    assert layers["conv3"].channels_out.evaluate(lambda name, domain: 16) == 64
    assert relation(layers["conv3"].channels_out, layers["bn3"].channels_in) is Relation.EQUAL


def test_unlabelled_layers_are_described_by_the_name_the_user_wrote() -> None:
    model = model_of("""
        import torch.nn as nn
        class Conv2dAuto(nn.Conv2d):
            pass
        class Block(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.body = nn.Sequential(Conv2dAuto(c, c, 3), nn.BatchNorm2d(c))
            def forward(self, x):
                return x + self.body(x)
    """)
    body = model.class_named("Block").generic.layers()["body"]
    assert [describe(child) for child in body.children] == ["Conv2dAuto", "nn.BatchNorm2d"]


def test_forward_data_flow_separates_branch_shortcut_and_what_follows() -> None:
    model = model_of("""
        import torch.nn as nn
        import torch.nn.functional as F
        class Block(nn.Module):
            def __init__(self, cin, cout, stride=1):
                super().__init__()
                self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(cout)
                self.shortcut = nn.Sequential()
                if stride != 1 or cin != cout:
                    self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            def forward(self, x):
                return F.relu(self.bn1(self.conv1(x)) + self.shortcut(x))
    """)
    (residual,) = residuals(model.class_named("Block").generic)
    assert [step.text for step in residual.main] == ["conv1", "bn1"]
    assert sorted(len(shortcut) for shortcut in residual.shortcuts) == [
        0,
        2,
    ]  # identity or conv + BN
    assert [step.text for step in residual.site.after] == ["F.relu"]


def test_layers_of_exclusive_branches_are_never_paired() -> None:
    model = model_of("""
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, kind, c, stride):
                super().__init__()
                if kind == "bottleneck":
                    self.conv1 = nn.Conv2d(c, c, 1, bias=False)
                    self.conv2 = nn.Conv2d(c, c, 3, stride, 1, bias=False)
                else:
                    self.conv1 = nn.Conv2d(c, c, 3, stride, 1, bias=False)
                    self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
            def forward(self, x):
                return self.conv2(self.conv1(x)) + x
    """)
    from reslint.model.values import compatible

    (residual,) = residuals(model.class_named("Block").generic)
    # conv1 and conv2 are each one of two layers: four combinations flow through forward...
    assert len(residual.mains) == 4
    # ...but only the two that one `if` can build together may be paired.
    pairs = {
        (a.layer.node, b.layer.node)
        for main in residual.mains
        for a, b in zip(main, main[1:])
        if compatible(a.layer.guards, b.layer.guards)
    }
    assert len(pairs) == 2


def test_a_name_defined_twice_gives_each_definition_its_own_model() -> None:
    model = model_of("""
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
        def first():
            return Block()
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 16, 3)
        class Wider(Block):
            pass
        def second():
            return Block()
        """)
    first, second = (cls for cls in model.class_defs if cls.name == "Block")
    assert [str(first.generic.layers()["conv"].channels_out)] == ["8"]
    assert [str(second.generic.layers()["conv"].channels_out)] == ["16"]
    # A use refers to the definition in force where it stands; a base, to the one before the class.
    assert model.factory_model(model.function_named("first")).cls is first
    assert model.factory_model(model.function_named("second")).cls is second
    assert model.class_named("Wider").local_bases() == [second]


def test_files_of_one_project_resolve_each_others_imports(tmp_path: Path) -> None:
    from reslint.model.project import Project

    package = tmp_path / "models"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "layers.py").write_text(
        textwrap.dedent("""
        import torch.nn as nn
        def conv3x3(cin, cout, stride=1):
            return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        """)
    )
    (package / "blocks.py").write_text(
        textwrap.dedent("""
        import torch.nn as nn
        from models.layers import conv3x3
        class BasicBlock(nn.Module):
            expansion = 1
            def __init__(self, inplanes, planes, stride=1):
                super().__init__()
                self.conv1 = conv3x3(inplanes, planes, stride)
        """)
    )
    (package / "net.py").write_text(
        textwrap.dedent("""
        import torch.nn as nn
        from .blocks import BasicBlock
        from . import blocks as parts
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = BasicBlock(64, 128, 2)
                self.b = parts.BasicBlock(128, 256)
        """)
    )
    built = []

    def load(path: str):
        source = Path(path).read_text()
        built.append(Path(path).name)
        return build_module_model(cst.parse_module(source), source, path, project)

    paths = [str(p) for p in sorted(package.glob("*.py"))]
    project = Project(paths, load)
    net = project.model(str(package / "net.py"))
    layers = net.class_named("Net").generic.layers()

    conv = layers["a"].instance.layers()["conv1"]
    assert (str(conv.channels_out), str(conv.expr("stride"))) == ("128", "2")
    assert str(layers["b"].instance.layers()["conv1"].channels_out) == "256"
    assert sorted(built) == ["__init__.py", "blocks.py", "layers.py", "net.py"]  # each built once
    assert project.model(str(package / "blocks.py")) is project.model(str(package / "blocks.py"))


def test_sizes_are_compared_only_where_the_path_of_forward_can_run() -> None:
    from reslint.model.queries import layer_sequences

    model = model_of("""
        import torch.nn as nn
        import torch.nn.functional as F
        class Split(nn.Module):
            def __init__(self, channels, radix=2):
                super().__init__()
                self.radix = radix
                self.conv = nn.Conv2d(channels, channels * radix, 3)
                self.fc1 = nn.Conv2d(channels, 32, 1)
            def forward(self, x):
                x = self.conv(x)
                if self.radix > 1:
                    gap = x.view(x.size(0), self.radix, -1).sum(dim=1)
                else:
                    gap = x
                return self.fc1(F.adaptive_avg_pool2d(gap, 1))
        """)
    instance = model.class_named("Split").generic
    chains = [c for c in layer_sequences(instance) if len(c) >= 3]
    conv, fc1 = instance.layers()["conv"], instance.layers()["fc1"]
    paths = {tuple(way for _, way in c.assume): c for c in chains}
    assert set(paths) == {(True,), (False,)}
    direct = paths[(False,)]  # the `else` path: conv straight into fc1
    ((condition, _),) = direct.assume
    assert (str(condition.left), condition.op) == ("self.radix", "GreaterThan")
    # On that path radix is 1, which no sample satisfies: nothing is claimed.
    assert not direct.differ(conv.channels_out, fc1.channels_in)


def test_a_free_size_compared_with_a_number_is_undecided() -> None:
    # `groups` set where reslint cannot see: `groups != 1` may go either way, so the block's layers
    # are built on the path that does not raise.
    model = model_of("""
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, c, groups):
                super().__init__()
                if groups != 1 or c == 64:
                    raise ValueError("unsupported")
                self.conv = nn.Conv2d(c, c, 3, padding=1)
            def forward(self, x):
                return self.conv(x)
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = Block(self.width, self.groups)
    """)
    model.instances()
    built = [i for i in model.class_named("Block").instances() if "conv" in i.attrs]
    assert len(built) == len(model.class_named("Block").instances()) == 2


def test_a_float_functional_sum_is_the_residual_addition() -> None:
    model = model_of("""
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
                self.bn = nn.BatchNorm2d(c)
                self.skip_add_relu = nn.quantized.FloatFunctional()
            def forward(self, x):
                return self.skip_add_relu.add_relu(self.bn(self.conv(x)), x)
    """)
    (residual,) = residuals(model.class_named("Block").generic)
    assert [step.text for step in residual.main] == ["conv", "bn"]
    assert residual.shortcuts == [[]]
    assert [step.kind for step in residual.site.after] == ["act"]


def test_each_output_of_a_backbone_is_a_chain() -> None:
    model = model_of("""
        import torch.nn as nn
        class Backbone(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)
            def forward(self, x):
                outs = []
                x = self.bn(self.conv(x))
                outs.append(x)
                return tuple(outs)
    """)
    chains = layer_sequences(model.class_named("Backbone").generic, open_containers=False)
    assert [[step.text for step in chain] for chain in chains] == [["conv", "bn"]]


def _function_body(code: str) -> cst.BaseSuite:
    function = cst.parse_module(textwrap.dedent(code)).body[0]
    assert isinstance(function, cst.FunctionDef)
    return function.body


def test_a_last_store_nothing_reads_is_found_and_a_read_one_is_not() -> None:
    dropped = _function_body(
        """
        def forward(self, x):
            residual = x
            out = self.conv(x)
            if self.downsample is not None:
                residual = self.downsample(residual)
            return self.relu(out)
        """
    )
    assert [assigned_name(store) for store in liveness(dropped).unread_last] == ["residual"]
    added = _function_body(
        """
        def forward(self, x):
            residual = x
            out = self.conv(x)
            if self.downsample is not None:
                residual = self.downsample(residual)
            return self.relu(out + residual)
        """
    )
    assert liveness(added).unread_last == []


def test_setting_weights_up_and_filling_a_container_are_told_apart_from_use() -> None:
    code = textwrap.dedent(
        """
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.features = nn.Sequential()
                self.features.add_module("conv", nn.Conv2d(c, c, 3))
                self.bn = nn.BatchNorm2d(c)
            def zero_init_last(self):
                if getattr(self.bn, "weight", None) is not None:
                    nn.init.zeros_(self.bn.weight)
            def forward(self, x):
                return self.bn(self.features(x))
        """
    )
    model = build_module_model(cst.parse_module(code), code, "block.py")
    methods = {f.name.value: f for f in descendants(model.tree) if isinstance(f, cst.FunctionDef)}

    def reads(method: str, name: str) -> list[cst.Attribute]:
        return model.self_reads(methods[method])[name]

    assert all(
        model.initialises_a_parameter(read, methods["zero_init_last"])
        for read in reads("zero_init_last", "bn")
    )
    assert not any(
        model.initialises_a_parameter(read, methods["forward"]) for read in reads("forward", "bn")
    )
    assert all(model.fills_a_container(read) for read in reads("__init__", "features"))
    assert not any(model.fills_a_container(read) for read in reads("forward", "features"))


def test_library_conv_builders_are_convs_with_their_callers_sizes() -> None:
    """`conv_layer or StdConv2d`, timm's make_divisible and a torch conv subclass of the file."""
    model = model_of("""
        import torch.nn as nn
        from timm.layers import StdConv2d, make_divisible
        class WSConv(nn.Conv2d):
            def __init__(self, in_channel, out_channels, kernel_size, stride=1):
                super().__init__(in_channel, out_channels, kernel_size, stride=stride, bias=False)
        class Block(nn.Module):
            def __init__(self, in_chs, out_chs=None, stride=1, conv_layer=None):
                super().__init__()
                conv_layer = conv_layer or StdConv2d
                out_chs = out_chs or in_chs
                mid_chs = make_divisible(out_chs * 0.25)
                self.conv1 = conv_layer(in_chs, mid_chs, 1)
                self.conv2 = WSConv(mid_chs, out_chs, 3, stride=stride)
            def forward(self, x):
                return self.conv2(self.conv1(x))
    """)
    layers = model.class_named("Block").generic.layers()
    assert layers["conv1"].kind == "conv" and layers["conv2"].kind == "conv"
    mid = layers["conv1"].channels_out
    assert mid.evaluate(lambda name, domain: 256) == 64  # make_divisible(64, 8)
    assert mid.evaluate(lambda name, domain: 20) == 8  # never below the divisor
    # `out_chs or in_chs` with out_chs not given: the block's input width
    assert relation(layers["conv2"].channels_out, layers["conv1"].channels_in) is Relation.EQUAL
    assert str(layers["conv2"].arg("stride")) == "stride"


def test_a_tensor_forward_is_given_stays_apart_from_its_input() -> None:
    """DLA's `block(x, shortcut)`: `if shortcut is None: shortcut = x` may add the caller's tensor."""
    model = model_of("""
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv = nn.Conv2d(c, c, 3, padding=1)
            def forward(self, x, shortcut=None):
                if shortcut is None:
                    shortcut = x
                return self.conv(x) + shortcut
    """)
    (site,) = model.class_named("Block").generic.forward.adds
    assert site.adds_a_given_tensor


def test_an_augmented_assignment_is_not_where_an_attribute_is_first_set() -> None:
    # `self.calls += 1` reads `calls` first: RN116 names the plain store after it.
    from reslint.engine import Checks, lint_source

    source = textwrap.dedent(
        """
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.calls += 1
                self.calls = 0
            def forward(self, x):
                return x
        """
    )
    (finding,) = [f for f in lint_source(source, "m.py", Checks.every()) if f.code == "RN116"]
    assert "first set on line 7" in finding.message


def test_layer_sequences_are_worked_out_once_per_instance_and_anew_when_it_grows() -> None:
    source = (
        "import torch.nn as nn\n\n\n"
        "class Block(nn.Module):\n"
        "    def __init__(self, c):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)\n"
        "        self.bn = nn.BatchNorm2d(c)\n\n"
        "    def forward(self, x):\n"
        "        return x + self.bn(self.conv(x))\n"
    )
    model = build_module_model(cst.parse_module(source), source, "m.py")
    (instance,) = [i for i in model.instances() if i.cls.name == "Block"]
    first = layer_sequences(instance)
    again = layer_sequences(instance)
    assert [list(chain) for chain in first] == [list(chain) for chain in again]
    assert all(a is b for a, b in zip(first, again))  # the same chains, not a second walk
    instance.attrs["extra"] = instance.attrs["bn"]
    grown = layer_sequences(instance)
    assert grown[0] is not first[0]


def test_getattr_with_a_default_gives_it_where_nothing_sets_the_attribute() -> None:
    # ResNet3d's `getattr(self, "lateral_inplanes", [0, 0, 0, 0])`: only a subclass sets it.
    model = model_of("""
        import torch.nn as nn
        class Stream(nn.Module):
            def __init__(self, base=32):
                super().__init__()
                side = getattr(self, "side_channels", [0, 0])
                self.stage = nn.Conv2d(base + side[0], base, 3)
        class Fused(Stream):
            def __init__(self, base=32):
                self.side_channels = [8, 8]
                super().__init__(base)
        """)
    plain = model.class_named("Stream").generic.layers()["stage"]
    fused = model.class_named("Fused").generic.layers()["stage"]
    # `base + side[0]`: side[0] is the default's 0 here, the subclass's 8 there.
    assert plain.channels_in is not None and plain.channels_in.args[1].constant == 0
    assert fused.channels_in is not None and fused.channels_in.args[1].constant == 8


def test_a_norm_of_the_files_own_is_known_by_its_per_channel_weight() -> None:
    model = model_of(
        """
        import torch
        import torch.nn as nn
        class ChannelNorm(nn.Module):
            def __init__(self, channels, eps=1e-6):
                super().__init__()
                self.gain = nn.Parameter(torch.ones(channels))
            def forward(self, x):
                return self.gain[:, None, None] * x
        class Frozen(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.register_buffer("scale", torch.ones(n))
            def forward(self, x):
                return x * self.scale.reshape(1, -1, 1, 1)
        class Scaled(nn.Module):
            def __init__(self, channels):
                super().__init__()
                self.gain = nn.Parameter(torch.ones(channels))
            def forward(self, x):
                return self.gain * x
        class Block(nn.Module):
            def __init__(self, planes):
                super().__init__()
                self.a = ChannelNorm(planes)
                self.b = Frozen(2 * planes)
                self.c = Scaled(planes)
            def forward(self, x):
                return self.c(self.b(self.a(x)))
        """
    )
    (block,) = [i for i in model.instances() if i.cls.name == "Block"]
    layers = block.layers()
    assert [str(layers[name].channels_in) for name in ("a", "b")] == ["planes", "2 * planes"]
    assert layers["c"].kind == "block"  # a weight over the last axis says nothing of the channels


def test_children_run_in_the_order_their_attributes_were_first_set() -> None:
    model = model_of(
        """
        import torch.nn as nn
        from lib import make_act
        class Block(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.ratio = 2
                self.conv = nn.Conv2d(c, 2 * c, 1)
                self.act = make_act()
                self.norm = nn.BatchNorm2d(2 * c)
            def forward(self, x):
                for layer in self.children():
                    x = layer(x)
                return x
        class Twice(Block):
            def __init__(self, c):
                super().__init__(c)
                self.conv = nn.Conv2d(c, c, 1)
        """
    )
    block = next(i for i in model.instances() if i.cls.name == "Block")
    children = block.registered_children()
    assert children is not None
    assert [getattr(c, "label", "unknown") for c in children.items] == ["conv", "unknown", "norm"]
    twice = next(i for i in model.instances() if i.cls.name == "Twice")
    assert twice.registered_children() is None  # `conv` set twice: its place is not known


def test_a_construction_with_numbers_shows_the_identity_its_builder_decided() -> None:
    """`Expand(64, 64, 1, None)`, built by the network `net()` makes, adds 64 input channels to 256:
    the class projects when handed a shortcut, the decided `if stride != 1:` handed none."""
    module = model_of(
        """
        import torch.nn as nn
        class Expand(nn.Module):
            def __init__(self, cin, mid, stride=1, downsample=None):
                super().__init__()
                self.conv = nn.Conv2d(cin, mid, 1, stride)
                self.out = nn.Conv2d(mid, mid * 4, 1)
                self.downsample = downsample
            def forward(self, x):
                skip = x if self.downsample is None else self.downsample(x)
                return self.out(self.conv(x)) + skip
        def stages(widths, cin):
            found = []
            for index, width in enumerate(widths):
                stride = 1 if index == 0 else 2
                downsample = None
                if stride != 1:
                    downsample = nn.Conv2d(cin, width * 4, 1, stride)
                found.append(Expand(cin, width, stride, downsample))
                cin = width * 4
            return found
        class Net(nn.Module):
            def __init__(self, widths=(64, 128)):
                super().__init__()
                self.body = nn.Sequential(*stages(widths, 64))
            def forward(self, x):
                return self.body(x)
        def net():
            return Net()
        """
    )
    found = widening_identities(module)
    assert [(str(a.constant), str(b.constant)) for a, b in (f.widths for f in found)] == [
        ("256.0", "64.0")
    ]
    assert found[0].declined is not None
    assert module.code(found[0].declined.test) == "stride != 1"


def test_a_block_returning_a_tuple_gives_each_element_its_own_steps() -> None:
    model = model_of("""
        import torch.nn as nn
        import torch.nn.functional as F
        class Body(nn.Module):
            def __init__(self, c_in, c_out):
                super().__init__()
                self.norm = nn.BatchNorm2d(c_in)
                self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
            def forward(self, x):
                pre = F.relu(self.norm(x))
                return self.conv(pre), pre
        class Unit(nn.Module):
            def __init__(self, c_in, c_out):
                super().__init__()
                self.body = Body(c_in, c_out)
                self.skip = nn.Conv2d(c_in, c_out, 1)
            def forward(self, x):
                y, pre = self.body(x)
                return y + self.skip(pre)
    """)
    (residual,) = residuals(model.class_named("Unit").generic)
    # the pre-activation both elements share is neither side's own
    assert [describe(e) for e in residual.main] == ["conv"]
    assert [describe(e) for e in residual.shortcuts[0]] == ["skip"]


def test_an_attribute_set_before_an_early_return_is_one_of_its_values_after_the_call() -> None:
    model = model_of("""
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, dims=None):
                super().__init__()
                self.head = self._head(dims, 64)
            def _head(self, dims, width):
                if dims is None:
                    self.out_dim = width
                    return None
                self.out_dim = dims[-1]
                return nn.Linear(width, dims[-1])
            def _broken(self, flag):
                if flag:
                    self.tag = 1
                    raise ValueError("no")
                self.tag = 2
                return None
    """)
    generic = model.class_named("Net").generic
    assert sorted(str(option) for option in options(generic.attrs["out_dim"])) == ["64", "dims[-1]"]
    model.interpreter.run_alone(model.class_named("Net").methods["_broken"], generic)
    assert str(generic.attrs["tag"]) == "2"  # the way that raised built nothing


def test_record_fields_are_a_records_positional_parameters() -> None:
    module = model_of(
        """
        import dataclasses
        from dataclasses import dataclass
        from typing import ClassVar, NamedTuple

        class Plan(NamedTuple):
            depth: int
            num_classes: int = 10

        @dataclass(frozen=True)
        class Head:
            width: int
            kind: ClassVar[str] = "linear"
            num_classes: int = 10

        @dataclasses.dataclass(kw_only=True)
        class Named:
            width: int

        @dataclass
        class Own:
            width: int
            def __init__(self, width):
                self.width = width

        class Plain:
            width: int

        @dataclass
        class Made:
            width: int
            cache: dict = dataclasses.field(init=False)
        """
    )
    fields = {
        name: module.definition(name).record_fields()
        for name in ("Plan", "Head", "Named", "Own", "Plain", "Made")
    }
    assert fields == {
        "Plan": ("depth", "num_classes"),
        "Head": ("width", "num_classes"),
        "Named": None,
        "Own": None,
        "Plain": None,
        "Made": None,
    }


def test_steps_under_one_flag_keep_the_path_without_them() -> None:
    """Four `if self.extra:` in forward make sixteen paths, of which two are possible: all of the
    optional steps, or none. Past the cap of alternatives the impossible ones go first."""
    module = model_of(
        """
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, c, extra=False):
                super().__init__()
                self.extra = extra
                self.conv1 = nn.Conv2d(c, c, 3, padding=1)
                self.conv2 = nn.Conv2d(c, c, 3, padding=1)
                self.side = nn.Identity()

            def forward(self, x):
                if self.extra:
                    x = self.side(x)
                out = self.conv1(x)
                if self.extra:
                    out = self.side(out)
                if self.extra:
                    out = self.side(out)
                out = self.conv2(out)
                if self.extra:
                    out = self.side(out)
                return out + x
        """
    )
    (instance,) = module.instances()
    mains = {tuple(describe(e) for e in main) for r in residuals(instance) for main in r.mains}
    assert ("conv1", "conv2") in mains
    assert ("conv1", "side", "conv2") not in mains
