"""skdeepsea.data.open_arrays: X and Y arrays in .npz / HDF5 files, any base order, lazily."""

import h5py
import numpy as np
import pytest

from skdeepsea import OneHotArray, OneHotDNA
from skdeepsea.data import ArrayDataset, Dataset, open_arrays, write_dataset

SEQUENCES = ["ACGTNA", "GGTTAC", "TTTACG"]
Y = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.uint8)


def encode(sequences, alphabet):
    return np.asarray(OneHotDNA(alphabet=alphabet, dtype="uint8").fit_transform(sequences))


@pytest.mark.parametrize("stored", ["AGCT", "ATGC"])
def test_npz_one_hot_is_reordered_to_the_alphabet_asked_for(tmp_path, stored):
    path = tmp_path / "data.npz"
    np.savez(path, X=encode(SEQUENCES, stored), Y=Y, target_names=np.array(["a", "b"]),
             alphabet=np.array(stored))
    with open_arrays(path, alphabet="ACGT") as data:
        assert isinstance(data, ArrayDataset) and data.format == "npz"
        assert data.stored_alphabet == stored and data.alphabet == "ACGT"
        assert data.X.shape == (3, 6, 4) and data.n_targets == 2 and len(data) == 3
        block = data.X[1:]
        assert isinstance(block, OneHotArray) and block.alphabet == "ACGT"
        np.testing.assert_array_equal(block, encode(SEQUENCES[1:], "ACGT"))
        np.testing.assert_array_equal(data.Y, Y)
        assert data.target_names == ["a", "b"]


def test_hdf5_strings_are_encoded_lazily_and_brought_to_a_length(tmp_path):
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        f["X"] = np.array(SEQUENCES, dtype="S")
        f["Y"] = Y[:, 0]
    with open_arrays(path, sequence_length=4) as data:
        assert data.format == "hdf5" and data.stored_alphabet is None and data.n_targets == 1
        np.testing.assert_array_equal(data.X[np.array([2, 0])],
                                      encode(["TTAC", "CGTN"], "ATGC"))
        np.testing.assert_array_equal(data.Y[:], Y[:, 0])


def test_other_files_open_as_data_sets(tmp_path):
    path = tmp_path / "stream.h5"
    write_dataset(path, encode(SEQUENCES, "ATGC"), Y, target_names=["a", "b"])
    with open_arrays(path, alphabet="ACGT") as data:
        assert isinstance(data, Dataset) and data.target_names == ["a", "b"]
        np.testing.assert_array_equal(data.X[:], encode(SEQUENCES, "ACGT"))


def test_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        open_arrays(tmp_path / "missing.npz")
    no_x = tmp_path / "no_x.npz"
    np.savez(no_x, Y=Y)
    with pytest.raises(ValueError, match=r"no_x.npz has no array 'X'"):
        open_arrays(no_x)
    short_y = tmp_path / "short_y.npz"
    np.savez(short_y, X=encode(SEQUENCES, "ATGC"), Y=Y[:2])
    with pytest.raises(ValueError, match="short_y.npz: X has 3 samples but Y has 2"):
        open_arrays(short_y)
    flat = tmp_path / "flat.npz"
    np.savez(flat, X=encode(SEQUENCES, "ATGC").reshape(3, -1))
    with pytest.raises(ValueError, match=r"flat.npz: X must be one-hot .* got shape \(3, 24\)"):
        open_arrays(flat)
    uneven = tmp_path / "uneven.npz"
    np.savez(uneven, X=np.array(["ACGT", "ACGTAC"]))
    with open_arrays(uneven) as data:
        with pytest.raises(ValueError, match="uneven.npz: sequence 1 has 6 bp"):
            data.X[:]
