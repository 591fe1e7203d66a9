"""Bad input on the variant-scoring surfaces: guards in the library, which the command inherits."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pysam")

from skdeepsea.variants import read_variant_scores, score_variants, write_variant_scores  # noqa: E402

from .test_errors import _copy, data, files  # noqa: E402, F401  (module fixtures)


@pytest.mark.parametrize("fmt", ["tsv", "hdf5", "parquet"])
@pytest.mark.parametrize("over", ["vcf", "genome", "model"])
def test_write_variant_scores_refuses_out_over_an_input(files, tmp_path, fmt, over):
    paths = {k: _copy(files[k], tmp_path / Path(files[k]).name) for k in ("vcf", "genome", "model")}
    before = Path(paths[over]).read_bytes()
    with pytest.raises(ValueError, match=r"out .* is the input file of .*would replace the input"):
        write_variant_scores(paths["model"], paths["vcf"], paths["genome"], paths[over],
                             format=fmt)
    assert Path(paths[over]).read_bytes() == before


def test_significance_out_over_an_input_or_the_output(files, tmp_path):
    from skdeepsea.variants import EValueTransformer, VariantSignificance

    significance = VariantSignificance(EValueTransformer().fit(np.ones((3, 1))))
    vcf = _copy(files["vcf"], tmp_path / "v.vcf")
    before = Path(vcf).read_bytes()
    for target, name in ((vcf, "variants"), (tmp_path / "o.tsv", "out")):
        with pytest.raises(ValueError, match=f"significance_out .* is the input file of {name}"):
            write_variant_scores(files["model"], vcf, files["genome"], tmp_path / "o.tsv",
                                 significance=significance, significance_out=target)
    assert Path(vcf).read_bytes() == before and not (tmp_path / "o.tsv").exists()


@pytest.mark.parametrize("client", [42, 1.5, "", object()])
def test_client_that_is_not_one_is_named(files, tmp_path, client):
    with pytest.raises(ValueError, match="client must be a Dask scheduler address"):
        write_variant_scores(files["model"], files["vcf"], files["genome"], tmp_path / "o.tsv",
                             client=client)
    with pytest.raises(ValueError, match="client must be a Dask scheduler address"):
        score_variants(files["model"], files["vcf"], files["genome"], client=client)
    assert not (tmp_path / "o.tsv").exists()


@pytest.mark.parametrize("name, content, message", [
    ("x.parquet", "frame", "is not a variant score file written by skdeepsea: it lacks the "
                           "column\\(s\\) 'chrom'"),
    ("x.tsv", "a\tb\n1\t2\n", "is not a variant score file written by skdeepsea"),
    ("x.h5", "hdf5", "lacks the column\\(s\\) 'variants/chrom'"),
    ("x.h5", "not an HDF5 file", "x.h5 is damaged or truncated \\(HDF5"),
    ("x.parquet", "junk", "x.parquet is damaged or truncated \\(Parquet"),
])
def test_score_files_not_written_by_the_package(tmp_path, name, content, message):
    import h5py
    import pandas as pd

    path = tmp_path / name
    if content == "frame":
        pd.DataFrame({"a": [1]}).to_parquet(path)
    elif content == "hdf5":
        with h5py.File(path, "w") as f:
            f["a"] = 1
    else:
        path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_variant_scores(path)
