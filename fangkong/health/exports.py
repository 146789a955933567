"""Excel exports of check-in data. Identity numbers and phones are always masked here."""

from datetime import date

from fangkong.lib.masking import mask_mobile
from fangkong.lib.spreadsheet_out import Workbook
from fangkong.org.models import OrgUnit


def unit_day_xlsx(*, unit: OrgUnit, day: date, people: list, counts: dict) -> bytes:
    """The liaison's day as a workbook: a title, the counts, one row per expected person."""
    wb = Workbook()
    ws = wb.add_worksheet("健康打卡")
    title = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    cell = wb.add_format({"border": 1})
    ws.write(0, 0, f"{unit.name} 职工及家属健康打卡情况（{day:%Y年%m月%d日}）", title)
    ws.write(
        1,
        0,
        (
            f"应打卡 {counts['expected']} 人，已打卡 {counts['reported']} 人，未打卡 "
            f"{counts['missing']} 人，异常 {counts['abnormal']} 人，免打卡 {counts['exempt']} 人；"
            f"家属 {counts['family_done']}/{counts['family_total']}"
        ),
    )
    headers = [
        "序号",
        "部门",
        "姓名",
        "职务",
        "手机号码",
        "身份证号",
        "本人打卡",
        "本人状态",
        "家属已打卡",
        "家属人数",
        "家属异常",
        "免打卡",
    ]
    for col, h in enumerate(headers):
        ws.write(3, col, h, head)
    for i, p in enumerate(people, start=1):
        row = [
            i,
            p.unit.name,
            p.name,
            p.post,
            mask_mobile(p.mobile),
            p.id_number_masked,
            "已打卡" if p.checkin_id else "未打卡",
            "异常" if p.checkin_abnormal else ("正常" if p.checkin_id else ""),
            p.family_done,
            p.family_total,
            p.family_abnormal,
            "是" if p.exempt else "",
        ]
        for col, value in enumerate(row):
            ws.write(3 + i, col, value, cell)
    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 18)
    ws.set_column(2, 11, 12)
    ws.freeze_panes(4, 0)
    return wb.close()
