"""What reslint knows about torch and the libraries built on it: torch-free tables both passes use."""
