"""The text CNN (Kim 2014): shapes, padding invariance, and the lecture's convolution slide."""

import torch

from seqkit.layers.conv import TextCNN

IMAGE = [
    [1, 0, 0, 0, 0, 1],
    [0, 1, 0, 0, 1, 0],
    [0, 0, 1, 1, 0, 0],
    [1, 0, 0, 0, 1, 0],
    [0, 1, 0, 0, 1, 0],
    [0, 0, 1, 0, 1, 0],
]
FILTER_1 = [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]]
FILTER_2 = [[-1, 1, -1], [-1, 1, -1], [-1, 1, -1]]
OUTPUT_1 = [[3, -1, -3, -1], [-3, 1, 0, -3], [-3, -3, 0, 1], [3, -2, -2, -1]]
OUTPUT_2 = [[-1, -1, -1, -1], [-1, -1, -2, 1], [-1, -1, -2, 1], [-1, 0, -4, 3]]


def test_shapes_for_several_widths():
    cnn = TextCNN(input_size=8, widths=(2, 3, 5), channels=4)
    inputs = torch.randn(3, 7, 8)  # (B, T, D)
    pooled = cnn(inputs, torch.tensor([7, 5, 1]))
    assert pooled.shape == (3, 12) and cnn.output_dim == 12
    maps = cnn.feature_maps(inputs, torch.tensor([7, 5, 1]))
    assert [responses.shape for responses, _ in maps] == [(3, 4, 6), (3, 4, 5), (3, 4, 3)]
    # A one-word text still has one window per width, padded with zeros.
    first_only = [[True] + [False] * 5, [True] + [False] * 4, [True, False, False]]
    assert [valid[2].tolist() for _, valid in maps] == first_only
    assert cnn(torch.randn(2, 2, 8), torch.tensor([2, 1])).shape == (2, 12)  # shorter than the widest filter


def test_padding_never_changes_the_result():
    torch.manual_seed(0)
    cnn = TextCNN(input_size=5, widths=(2, 3), channels=6)
    short = torch.randn(1, 4, 5)
    padded = torch.cat([short, torch.randn(1, 6, 5) * 100], dim=1)  # garbage where padding is
    alone = cnn(short, torch.tensor([4]))
    in_batch = cnn(torch.cat([padded, torch.randn(1, 10, 5)]), torch.tensor([4, 10]))[:1]
    torch.testing.assert_close(alone, in_batch)


def slide_cnn(kernel):
    """A width-3 TextCNN whose channel j applies the 3x3 `kernel` to image columns j..j+2.

    A 2-D valid convolution of a 6x6 image is a 1-D convolution over its rows in which each output channel is
    the filter shifted to one column offset, so Kim's 1-D layer reproduces the slide exactly.
    """
    cnn = TextCNN(input_size=6, widths=(3,), channels=4)
    weight = torch.zeros(4, 6, 3)  # (C, D, width): Conv1d's layout
    for column in range(4):
        weight[column, column : column + 3, :] = torch.tensor(kernel, dtype=torch.float).T
    with torch.no_grad():
        cnn.convolutions[0].weight.copy_(weight)
        cnn.convolutions[0].bias.zero_()
    return cnn


def test_lecture_convolution_slide():
    image = torch.tensor(IMAGE, dtype=torch.float).unsqueeze(0)  # (1, T=6 rows, D=6 columns)
    lengths = torch.tensor([6])
    slide = ((FILTER_1, OUTPUT_1, [[3, 0], [3, 1]]), (FILTER_2, OUTPUT_2, [[-1, 1], [0, 3]]))
    for kernel, expected, pooled_2x2 in slide:
        cnn = slide_cnn(kernel)
        ((responses, valid),) = cnn.feature_maps(image, lengths)
        feature_map = responses[0].T  # (rows, columns) as on the slide
        assert feature_map.tolist() == expected
        assert valid.all()
        # 2x2 max pooling of the feature map, as on the slide.
        assert torch.nn.functional.max_pool2d(feature_map[None, None], 2)[0, 0].tolist() == pooled_2x2
        # Max pooling over time keeps each column's strongest (ReLU-ed) response.
        expected_over_time = torch.tensor(expected, dtype=torch.float).clamp(min=0).max(dim=0).values
        assert cnn(image, lengths)[0].tolist() == expected_over_time.tolist()
