"""A torchvision-style ResNet written independently of reslint's zoo, with switchable bugs.

`resnet(depth, bug=...)` returns a correct ResNet-18/34/50 when bug is None; each bug is one of the
mistakes the dynamic pass must locate. Used by tests/dynamic only (fixtures/models/ has the real corpus).
"""

import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, bias=False):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=bias)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=bias)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, bias=False, expand=True):
        super().__init__()
        out = planes * self.expansion if expand else planes
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=bias)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=bias)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=bias)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, bug=None):
        super().__init__()
        self.bug = bug
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], 2)
        self.layer3 = self._make_layer(block, 256, layers[2], 2)
        self.layer4 = self._make_layer(block, 512, layers[3], 2)
        self.avgpool = nn.AvgPool2d(7) if bug == "avgpool7" else nn.AdaptiveAvgPool2d((1, 1))
        features = 512 if bug == "fc512" else 512 * block.expansion
        self.fc = nn.Linear(features, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        bug = self.bug
        expansion = 1 if bug == "no_expand" else block.expansion
        downsample = None
        if stride != 1 or self.inplanes != planes * expansion:
            shortcut_stride = 1 if bug == "shortcut_no_stride" else stride
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * expansion, 1, shortcut_stride, bias=False),
                nn.BatchNorm2d(planes * expansion),
            )
        extra = {"bias": bug == "conv_bias"}
        if bug == "no_expand":
            extra["expand"] = False
        layers = [block(self.inplanes, planes, stride, downsample, **extra)]
        if bug != "inplanes_not_updated":
            self.inplanes = planes * expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, **extra))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if self.bug != "maxpool_unused":
            x = self.maxpool(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def resnet18(bug=None, num_classes=1000):
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, bug)


def resnet50(bug=None, num_classes=1000):
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes, bug)
