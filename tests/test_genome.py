import gzip

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pysam = pytest.importorskip("pysam")

from skdeepsea.genome import Genome  # noqa: E402

SEQ1 = "ACGTACGTNNacgtacgtAA"  # 20 bp, lowercase soft-masking
SEQ2 = "GGGGCCCC"


def write_fasta(path, records, width=7):
    with open(path, "w") as f:
        for name, seq in records:
            f.write(f">{name} some description\n")
            for i in range(0, len(seq), width):
                f.write(seq[i:i + width] + "\n")
    return path


@pytest.fixture
def fasta(tmp_path):
    return write_fasta(tmp_path / "g.fa", [("chr1", SEQ1), ("chrM", SEQ2), ("chrX", "ACGT")])


def test_contigs_in_file_order_and_missing_index_built(fasta):
    assert not (fasta.parent / "g.fa.fai").exists()
    with Genome(fasta) as genome:
        assert genome.contigs == {"chr1": 20, "chrM": 8, "chrX": 4}
        assert list(genome.contigs) == ["chr1", "chrM", "chrX"]
    assert (fasta.parent / "g.fa.fai").exists()


@pytest.mark.parametrize("start,end", [(0, 20), (3, 11), (-5, 3), (15, 30), (-4, 25), (-9, -2),
                                       (22, 26), (5, 5)])
def test_fetch_pads_with_n_outside_the_contig(fasta, start, end):
    padded = "N" * 50 + SEQ1.upper() + "N" * 50
    with Genome(fasta) as genome:
        out = genome.fetch("chr1", start, end)
    assert out == padded[start + 50:end + 50]
    assert len(out) == end - start


def test_fetch_rejects_reversed_interval(fasta):
    with Genome(fasta) as genome, pytest.raises(ValueError, match="before start"):
        genome.fetch("chr1", 5, 2)


def test_bgzipped_fasta_reads_like_plain(fasta, tmp_path):
    pysam.tabix_compress(str(fasta), str(tmp_path / "g.fa.gz"))
    with Genome(tmp_path / "g.fa.gz") as genome:
        assert genome.fetch("1", -1, 21) == "N" + SEQ1.upper() + "N"
        assert genome.fetch("MT", 2, 6) == "GGCC"


def test_plain_gzip_gives_a_clear_error(fasta, tmp_path):
    path = tmp_path / "p.fa.gz"
    path.write_bytes(gzip.compress(fasta.read_bytes()))
    with pytest.raises(ValueError, match="bgzip"):
        Genome(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="nope.fa"):
        Genome("nope.fa")


def test_contig_names_match_across_conventions(tmp_path):
    path = write_fasta(tmp_path / "ens.fa", [("1", "ACGT"), ("MT", "GG"), ("X", "TT")])
    with Genome(path) as genome:
        assert genome.resolve("chr1") == "1"
        assert genome.resolve("1") == "1"
        assert genome.resolve("chrM") == "MT"
        assert genome.resolve("chrMT") == "MT"
        assert genome.resolve("chrX") == "X"
        assert genome.fetch("chr1", 0, 4) == "ACGT"
        assert "chr1" in genome and "chr2" not in genome
        with pytest.raises(KeyError, match="'chr2'"):
            genome.resolve("chr2")


def test_ucsc_names_found_from_ensembl_names(fasta):
    with Genome(fasta) as genome:
        assert genome.resolve("1") == "chr1"
        assert genome.resolve("MT") == "chrM"
        assert genome.resolve("x") == "chrX"


def test_ambiguous_contig_is_an_error(tmp_path):
    path = write_fasta(tmp_path / "both.fa", [("chr1", "AC"), ("1", "GT")])
    with Genome(path) as genome:
        assert genome.fetch("chr1", 0, 2) == "AC"
        assert genome.fetch("1", 0, 2) == "GT"
        with pytest.raises(KeyError, match="ambiguous"):
            genome.resolve("CHR1")


@pytest.fixture(scope="module")
def module_genome(tmp_path_factory):
    path = write_fasta(tmp_path_factory.mktemp("genome") / "g.fa", [("chr1", SEQ1), ("2", "AC")])
    with Genome(path) as genome:
        yield genome


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.integers(-40, 60), length=st.integers(0, 60))
def test_fetch_equals_an_n_padded_slice(module_genome, start, length):
    padded = "N" * 100 + SEQ1.upper() + "N" * 100
    out = module_genome.fetch("1", start, start + length)
    assert out == padded[start + 100:start + length + 100]
    assert module_genome.fetch("chr2", start, start + length) == \
        ("N" * 100 + "AC" + "N" * 200)[start + 100:start + length + 100]
