"""Readers/writers of real pose formats, torch Datasets and transforms."""
