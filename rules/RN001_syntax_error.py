"""RN001 syntax-error."""

from __future__ import annotations

from reslint.rule import Rule


class SyntaxErrorRule(Rule):
    """## What it does
    Reports a file that Python cannot parse: every line with a syntax error gets its own finding.

    ## Why is this bad?
    The file cannot be imported, so the model in it cannot be built. reslint blanks the broken
    statement and keeps going, so all the errors are listed at once and the other rules still run on
    the rest of the file. For a bracket that is never closed (or closed by the wrong kind), the finding
    is on the line of the opening bracket.

    ## Example
    ```python
    def __init__(self, norm_layer: Optional[Callable[.., nn.Module]] = None) -> None:
        ...
    layers.append(block(self.inplanes, planes, groups=self.groups, norm_layer))
    ```

    Use instead:
    ```python
    def __init__(self, norm_layer: Optional[Callable[..., nn.Module]] = None) -> None:
        ...
    layers.append(block(self.inplanes, planes, groups=self.groups, norm_layer=norm_layer))
    ```
    """

    code = "RN001"
    name = "syntax-error"
    file_level = True

    INVALID = [
        """
        def make_layer(block, planes, blocks, stride=1:
            return block(planes, stride)
        """,
        """
        layers.append(block(self.inplanes, planes, groups=self.groups, norm_layer))
        """,
    ]
    VALID = [
        """
        def make_layer(block, planes, blocks, stride=1):
            return block(planes, stride)
        """,
    ]
