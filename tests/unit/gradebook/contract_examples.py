"""The input examples of ../shared/domain/rules-cli.md, shared by the rules tests."""

TT22_CLI_EXAMPLE = {
    "circular": "tt22",
    "grade": 8,
    "subjects": [
        {
            "code": "toan",
            "name": "Toán",
            "assessment": "score",
            "periods_per_year": 140,
            "hk1": {"regular": [8, 7.5, 9, 6], "midterm": 7, "final": 8.5},
            "hk2": {"regular": [9, 8, 8, 7], "midterm": 8, "final": 9},
        },
        {
            "code": "gdtc",
            "name": "Giáo dục thể chất",
            "assessment": "comment",
            "hk1": {"result": "Đ"},
            "hk2": {"result": "Đ"},
        },
    ],
    "conduct": {"hk1": "Tốt", "hk2": "Tốt"},
}
TT27_CLI_EXAMPLE = {
    "circular": "tt27",
    "grade": 4,
    "subjects": [
        {
            "code": "tieng_viet",
            "name": "Tiếng Việt",
            "hk1": {"level": "T", "test": 9},
            "hk2": {"level": "T", "test": 10},
        },
        {"code": "dao_duc", "name": "Đạo đức", "hk1": {"level": "H"}, "hk2": {"level": "T"}},
    ],
    "qualities": {"yeu_nuoc": "T", "nhan_ai": "T", "cham_chi": "T", "trung_thuc": "T", "trach_nhiem": "T"},
    "competencies": {
        "tu_chu_tu_hoc": "T",
        "giao_tiep_hop_tac": "T",
        "giai_quyet_van_de": "T",
        "ngon_ngu": "T",
        "tinh_toan": "T",
        "khoa_hoc": "T",
        "cong_nghe": "T",
        "tin_hoc": "T",
        "tham_mi": "T",
        "the_chat": "T",
    },
}
