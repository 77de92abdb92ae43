"""What reslint knows about torch and the libraries ResNets are built with, without importing them.

Both passes read these facts: which names torch.nn and its relatives define (names), the parameters
of every torch.nn layer and torch.nn.init / torch.nn.functional function (signatures), the string
values their literal parameters accept (choices), the kinds of layer reslint understands (layers) and
what framework builders create (frameworks). names and signatures are generated from the installed
torch by `python -m reslint.knowledge.generate`, the only module here that imports torch;
tests/test_knowledge.py checks them, and proves choices, against it.
"""
