"""Write an independent synthetic relief world (second generator) and its answer key to a folder."""

from django.core.management.base import BaseCommand, CommandError

from fangkong.relief.synthetic.independent import SCALES, FolderNotEmpty, generate


class Command(BaseCommand):
    help = (
        "生成第二套（独立编写的）救灾资金物资审计模拟台账文件夹及答案（answer_key.json）。"
        " Generate the independent relief world and its answer key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "out_dir", help="output folder (created; an earlier world there is replaced)"
        )
        parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
        parser.add_argument(
            "--full", action="store_true", help="full size (~250 files, ~67,000 rows)"
        )
        parser.add_argument(
            "--scale",
            choices=SCALES,
            help="size by name (small, mid, full); --full is the same as --scale full",
        )
        parser.add_argument(
            "--clean",
            action="store_true",
            help="the same world with look-alikes but no planted problem",
        )

    def handle(self, *args, out_dir, seed, full, scale, clean, **options):
        scale = scale or ("full" if full else "small")
        try:
            folder = generate(out_dir, seed=seed, scale=scale, clean=clean)
        except FolderNotEmpty as exc:
            raise CommandError(str(exc)) from exc
        import json

        key = json.loads((folder / "answer_key.json").read_text(encoding="utf-8"))
        totals = key["totals"]
        self.stdout.write(
            f"{folder}: {totals['files']} files, {totals['rows']} rows, {totals['problems']} planted problems, "
            f"{totals['decoys']} decoys (seed {seed}, {scale}{', clean' if clean else ''}) in {key['generation_seconds']} s"
        )
        if key["notes"].get("xls_fallback"):
            self.stdout.write(
                f"LibreOffice not found: {len(key['notes']['xls_fallback'])} .xls files written as .xlsx"
            )
