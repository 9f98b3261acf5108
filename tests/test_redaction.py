"""The built-in redaction plugin on realistic Chinese customer-service text."""

import pytest

from plugins.redaction import imflask_transform_transcript, luhn_valid, redact_text, valid_id_number

# 11010519491231002X and 440524188001010014 are the check-digit examples of GB 11643-1999.
VALID_ID = "11010519491231002X"
VALID_ID_2 = "440524188001010014"
VALID_CARD = "6222021234567890128"  # UnionPay prefix, passes Luhn
VALID_CARD_16 = "4111111111111111"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的手机是13812345678，请尽快联系", "我的手机是[PHONE]，请尽快联系"),
        ("电话：+86 138 1234 5678", "电话：[PHONE]"),
        ("打0086-13912345678也行", "打[PHONE]也行"),
        ("号码 159-1234-5678 或 186 1234 5678", "号码 [PHONE] 或 [PHONE]"),
        ("邮箱zhang.san+vip@mail.example.com.cn谢谢", "邮箱[EMAIL]谢谢"),
        ("Email me: li_si@example.org.", "Email me: [EMAIL]."),
        (f"身份证号{VALID_ID}，姓名张三", "身份证号[ID_NUMBER]，姓名张三"),
        (f"身份证 {VALID_ID.lower()}", "身份证 [ID_NUMBER]"),
        (f"老身份证{VALID_ID_2}", "老身份证[ID_NUMBER]"),
        (f"退款到卡号{VALID_CARD}吧", "退款到卡号[BANK_CARD]吧"),
        ("卡号 6222 0212 3456 7890 128", "卡号 [BANK_CARD]"),
        (f"visa {VALID_CARD_16}", "visa [BANK_CARD]"),
        ("手机13812345678，邮箱a@b.cn", "手机[PHONE]，邮箱[EMAIL]"),
    ],
)
def test_redact_masks(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "我买了3件，一共138.00元，优惠了13元",
        "订单号：202412041380013800，麻烦查一下",
        "订单号13812345678还没发货",
        "order no. 4111111111111111 shipped",
        "下单时间2024-12-04 13:45:00，预计12月6日送达",
        "日期20241204，数量 12 件，单价 ¥1380",
        "快递单号 SF1381234567890",
        "发票金额 13800000000 元？不对，是1380元",
        "SKU13812345678 缺货",
        "时间戳1733300000123",
        "流水号 6222021234567890128",
        "110105194912310021 这个身份证校验位不对",
        "110105194913310028 月份不存在",
        "6222021234567890123 不是有效卡号",
        "2024120413801380 十六位但以2开头",
        "邮箱写成 zhangsan@ 或者 @example.com 不算",
        "12345678901 不是手机号",
        "10086 和 95588 是客服电话",
    ],
)
def test_redact_keeps_ordinary_numbers(text):
    assert redact_text(text) == text


def test_valid_id_number_checks_date_and_checksum():
    assert valid_id_number(VALID_ID)
    assert valid_id_number(VALID_ID_2)
    assert not valid_id_number("110105194902301234")
    assert not valid_id_number("110105194912310021")


def test_luhn_valid():
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


def test_transform_redacts_texts_and_comment():
    transcript = {
        "id": "1",
        "customer": "13812345678",
        "agent": "a",
        "rating": {"score": 2, "comment": "打我电话13812345678", "rated_at": 1.0},
        "utterances": [
            {"seq": 1, "type": "text", "role": "customer", "text": "卡号6222021234567890128", "ts": 1.0},
            {"seq": 2, "type": "system", "role": "system", "event": "rated", "text": "", "ts": 2.0,
             "rating": {"score": 2, "comment": "打我电话13812345678"}},
        ],
    }

    redacted = imflask_transform_transcript(transcript)

    assert redacted["utterances"][0]["text"] == "卡号[BANK_CARD]"
    assert redacted["rating"]["comment"] == "打我电话[PHONE]"
    assert redacted["utterances"][1]["rating"]["comment"] == "打我电话[PHONE]"
    assert redacted["customer"] == "13812345678"
    assert transcript["utterances"][0]["text"] == "卡号6222021234567890128"


@pytest.mark.parametrize("text", ["￥13812345678", "共 13912345678 元", "6222021234567890128件"])
def test_redact_keeps_amounts(text):
    assert redact_text(text) == text
