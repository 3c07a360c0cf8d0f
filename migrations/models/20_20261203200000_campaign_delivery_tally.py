"""campaign_delivery_tally: a campaign's delivery figures kept by the database as its deliveries change, rather
than counted from them on every read (the table from aerich's output for both dialects; the triggers and the
backfill written by hand).

Counting a campaign's deliveries by channel, status and reason read every one of its rows: 0.8 s at a million, and
a console polls every 2 s. Triggers on outbox_delivery append to the tally instead: on PostgreSQL one statement-
level trigger per kind of change, reading the statement's transition tables, so a batch of 500 rows claimed or sent
appends a few grouped rows (-n for what the rows were, +n for what they became); on SQLite, which has only row
triggers, a row per change. Appending never waits on another sender's counter (an UPDATE of one counter row would
serialise every sender of a campaign on it). notifications/tally.py reads the sums and folds the rows.

The triggers are made before the backfill, in this one transaction: CREATE TRIGGER locks out writers of
outbox_delivery until the commit, so no delivery changes between the backfill's read and the triggers' start.
Opened inbox messages are tallied too (status `read`), by notifications.service.mark_read.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True

_TALLY = '"campaign_delivery_tally" ("campaign_id", "channel", "status", "reason", "n")'
_GROUP = '"campaign_id", "channel", "status", "reason"'

_POSTGRES_TRIGGERS = f"""
CREATE OR REPLACE FUNCTION "outbox_delivery_tally"() RETURNS trigger LANGUAGE plpgsql AS $tally$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {_TALLY} SELECT {_GROUP}, count(*) FROM "tally_new"
            WHERE "campaign_id" IS NOT NULL GROUP BY {_GROUP};
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO {_TALLY} SELECT {_GROUP}, -count(*) FROM "tally_old"
            WHERE "campaign_id" IS NOT NULL GROUP BY {_GROUP};
    ELSE
        INSERT INTO {_TALLY} SELECT {_GROUP}, sum("n") FROM (
            SELECT {_GROUP}, -1 AS "n" FROM "tally_old" UNION ALL SELECT {_GROUP}, 1 FROM "tally_new") AS "moved"
            WHERE "campaign_id" IS NOT NULL GROUP BY {_GROUP} HAVING sum("n") <> 0;
    END IF;
    RETURN NULL;
END $tally$;
CREATE TRIGGER "outbox_delivery_tally_insert" AFTER INSERT ON "outbox_delivery"
    REFERENCING NEW TABLE AS "tally_new" FOR EACH STATEMENT EXECUTE FUNCTION "outbox_delivery_tally"();
CREATE TRIGGER "outbox_delivery_tally_update" AFTER UPDATE ON "outbox_delivery"
    REFERENCING OLD TABLE AS "tally_old" NEW TABLE AS "tally_new"
    FOR EACH STATEMENT EXECUTE FUNCTION "outbox_delivery_tally"();
CREATE TRIGGER "outbox_delivery_tally_delete" AFTER DELETE ON "outbox_delivery"
    REFERENCING OLD TABLE AS "tally_old" FOR EACH STATEMENT EXECUTE FUNCTION "outbox_delivery_tally"();"""

_SQLITE_ROW = '"campaign_id", "channel", "status", "reason"'
_SQLITE_TRIGGERS = f"""
CREATE TRIGGER "outbox_delivery_tally_insert" AFTER INSERT ON "outbox_delivery"
WHEN NEW."campaign_id" IS NOT NULL BEGIN
    INSERT INTO {_TALLY} VALUES (NEW."campaign_id", NEW."channel", NEW."status", NEW."reason", 1);
END;
CREATE TRIGGER "outbox_delivery_tally_update" AFTER UPDATE OF "campaign_id", "channel", "status", "reason"
ON "outbox_delivery" WHEN OLD."campaign_id" IS NOT NEW."campaign_id" OR OLD."channel" IS NOT NEW."channel"
    OR OLD."status" IS NOT NEW."status" OR OLD."reason" IS NOT NEW."reason" BEGIN
    INSERT INTO {_TALLY} SELECT OLD."campaign_id", OLD."channel", OLD."status", OLD."reason", -1
        WHERE OLD."campaign_id" IS NOT NULL;
    INSERT INTO {_TALLY} SELECT NEW."campaign_id", NEW."channel", NEW."status", NEW."reason", 1
        WHERE NEW."campaign_id" IS NOT NULL;
END;
CREATE TRIGGER "outbox_delivery_tally_delete" AFTER DELETE ON "outbox_delivery"
WHEN OLD."campaign_id" IS NOT NULL BEGIN
    INSERT INTO {_TALLY} VALUES (OLD."campaign_id", OLD."channel", OLD."status", OLD."reason", -1);
END;"""

# The deliveries as they stand, and the campaign inbox messages already opened (tests/notifications/test_tally.py
# runs these against a live tally).
BACKFILL = f"""
INSERT INTO {_TALLY} SELECT {_GROUP}, count(*) FROM "outbox_delivery" WHERE "campaign_id" IS NOT NULL
    GROUP BY {_GROUP};
INSERT INTO {_TALLY} SELECT d."campaign_id", 'inbox', 'read', NULL, count(*) FROM "outbox_delivery" d
    JOIN "inbox_message" m ON m."id" = d."provider_ref"
    WHERE d."campaign_id" IS NOT NULL AND d."channel" = 'inbox' AND m."read_at" IS NOT NULL GROUP BY d."campaign_id";"""

UPGRADE = {
    "sqlite": """
        CREATE TABLE IF NOT EXISTS "campaign_delivery_tally" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "campaign_id" VARCHAR(40) NOT NULL,
    "channel" VARCHAR(16) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "reason" VARCHAR(48),
    "n" BIGINT NOT NULL
) /* A change in how many of a campaign's deliveries stand in one channel, status and reason (+n or -n), written */;
CREATE INDEX IF NOT EXISTS "idx_campaign_de_campaig_01ca9c" ON "campaign_delivery_tally" ("campaign_id");"""
    + _SQLITE_TRIGGERS + BACKFILL,
    "postgres": """
        CREATE TABLE IF NOT EXISTS "campaign_delivery_tally" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "campaign_id" VARCHAR(40) NOT NULL,
    "channel" VARCHAR(16) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "reason" VARCHAR(48),
    "n" BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_campaign_de_campaig_01ca9c" ON "campaign_delivery_tally" ("campaign_id");
COMMENT ON TABLE "campaign_delivery_tally" IS 'A change in how many of a campaign''s deliveries stand in one channel, status and reason (+n or -n), written';"""
    + _POSTGRES_TRIGGERS + BACKFILL,
}

DOWNGRADE = {
    "sqlite": """
        DROP TRIGGER IF EXISTS "outbox_delivery_tally_insert";
        DROP TRIGGER IF EXISTS "outbox_delivery_tally_update";
        DROP TRIGGER IF EXISTS "outbox_delivery_tally_delete";
        DROP TABLE IF EXISTS "campaign_delivery_tally";""",
    "postgres": """
        DROP TRIGGER IF EXISTS "outbox_delivery_tally_insert" ON "outbox_delivery";
        DROP TRIGGER IF EXISTS "outbox_delivery_tally_update" ON "outbox_delivery";
        DROP TRIGGER IF EXISTS "outbox_delivery_tally_delete" ON "outbox_delivery";
        DROP FUNCTION IF EXISTS "outbox_delivery_tally"();
        DROP TABLE IF EXISTS "campaign_delivery_tally";""",
}


async def upgrade(db: BaseDBAsyncClient) -> str:
    """The SQL that applies this migration on `db`'s dialect."""
    return UPGRADE[db.capabilities.dialect]


async def downgrade(db: BaseDBAsyncClient) -> str:
    """The SQL that reverts this migration on `db`'s dialect."""
    return DOWNGRADE[db.capabilities.dialect]


MODELS_STATE = 'eJztXVtz2ziW/isov8SpVVK2fEvSU1vlpNM76U7HU3FmZ3fjKQYiIQtjiuACpB3NTv/3BUBS4gWkCIWkKRgvvpD4QOkc8ODc8X8HS+Ihn728jD0cfSS3B2/A/x0EcIn4H5V7E3AAw3BzR1yI4MyXg6EY5fjpsBmLKHQjfmMOfYb4JQ8xl+IwwiQQw68CBKC3xAHgw/g1QCgIEWUkgP4LD0YQUAS9N+BhQcAhDDww5wP4P8vnE/4LRuInCiZgTslS/EnRS/Fgj7j8yTi47fEZcYD/N0ZORG5RxC/yJ339O7+MAw99Ryz7N7xz5hj5XoGi2BMTyOtOtArltXcLSH+RI8Xnnzku8eNlsBkdrqIFCdbD+dcTV29RgCiMkJcjcRD7fsqO7FLyWfmFiMZo/SG9zQUPzWHsC0Yd/GkeBwmdYIhfuoR/3XQF/MmHy5kH//3f04+YAznOp6svzvX7L45zUOGy+EAlpqSXXBKIFYKDiEkCLeF3x0fBbbTg/54e/ZE8Z0OoZJR44H9efn7358vPh6dHz8UDCV9myQL8lN6Zylt/yCk4j5NJJFs2fHA54zntHBhV+fEzvxPhJVLzpIgs8cZLoS+zP3bhVHahgVUZXfvghHglrgJ/lT63gRNfPvz+/vrL5e9/EY9bMva/viTf5Zf34s5UXl2Vrh6el7i2ngT87cOXPwPxL/ifq0/vJXUJi26pfOJm3Jf/ORCfCcYRcQLy4EAvR6LsakZGPnLDdC4ECE14pfESFlHdvIxVFm+k5BA8Lrxtx+ct3rbjMt82b5u49YeC0HqyLo/pi8iDvke9SLQNjTl9ZmgB/blD5jp0LuN2onVKyCdC6kR50FzMKcK8pXx+2oK+56e19BW3ivSNIOWalLZgLsF6WsiPKJhPpi0ofTKtpbS4paS0nmQugKy42CouKOLfkulSuYgybzF3LzZwqGVLhZau7ejqoQhiv0rbX6+vPqlpu0GU7SHsRuBfwMcs6ktNzlmtsxj7EQ7YS/HY3kzVBnILChVsoYzMh79f/leZA+8+Xr0tGzligrecHcJ/ML/LWa7iwgy6dw+Qek7lDpmSurHVW8vpsnwFBvBWkld8Y/H9UrP/g4eWIYlQ4K4+I5fQoi+jdtCkyU2EN8Mduhm/1V/0ZYHAHFMWARiwB0RBRAAEiTUOUuE54X+EPlyhxJMTcQjjHxbcoRUQ7p0Z8VZVL1GnMyt8Q18PmEsSHYUPP/i79RWNcf82xVc07FZkrrNo/c62fQHXAANdRK/buIhe17uIXldcREISahA3HW4gaY+nr9q436av6v1v4l6RumI7chaQLXRoXAAZSOnuNWUWwShmVRpfL6HvfwiiGkGxRpWIzD/2PhL5VnyIFyfTi/NX/K78jOKfiwZqX/9++fHjh09fKpYzC/nkCrFbb3vkMcNbHz3S9QnZGe9whP+JggOFdZHdarQp3NygVoHnJAg8AQvygO65xs8/2Qpw/T7iyv0SQNclMeeCiA67C6HsL9Wx5d2mseFjaxJYk2APTQLx20GBW+X5F/S9ZrPPY0xwPjax8/1/fWneldbc/Hj16T+y4eWtqqgShJxi2kQvgCzVd6X6DHvfdfabIqoTum/fdvbYfMCeE8TLGaK667sCtGtcf41viKi7zqtIu9a3rXXIWExh4CL+kHukiC4128wK+HDG81FfNO/Scoa+I3UNbodgDtxFN62dpAM1dY+EzYi00owmjWppHHo7GiNFpDVGRsx2+ek13DX5cL6PbqGgHBMBV4TvkcKL8Dad5ZffPiMf1mSvpeb8z+sZ9/bF31zdrAw1yW45vRS5f73Ra2yvUCuCZT4vJ/N5/RjB/pJOd5nMZhLV+nSj5taZwpNaXIX1zlSvOG6rP/USpO7XZwxwgbUgFDMJl5kSosRGsPseieKbBfLDNMHCjcADjhY4AIwsEZDRUwYOb+JTNJvexGcn7kz8jU7439PX6HnVAzvkg63P1vpsrZo0MjWpVc0PZ0Xk7ORFVECNiIoP7WjJ01HX1aLC2pKKFpkJclerUro+jr5BjCOHVzxvr3N42ySKNGST1SWJ9ChzDkIUeIJsgyz67ssO0fcQcybssMMXkQbu8Huyo7fyd3EbE4W7aXIlqPVrjpnPFN2Tux0d2Xmk5fKYuewh18fBTmwuQS2fx8znRJPX7AmQw5gQ4u678jTkT3dxCH1NOpdxRpi5fRC7EoBR0L5K+F8IRfg2+A2tJPk/8I8pQtn1/u9c0uueEb3O780vU/iw9o5WVhyngfA7R8lCvbx+d/nz+4Oq/BiUtiMTHm1JmxeaarI+TpL3z5jBGfZx1FBLWhkzaYxUrEdrVZJeAkoeAJnLKs7NHICiW8yxKxELOJ+9mt3EF2czJOMC8CZ+NXOPn08AZIB/DnyPKPLAbLWZw+f/J/ng7BmYI0+sLP5AVdhi6Mfb4MVebC6ThuDFoyer7cCfPXafou/8YbrxggLIBHV18IzMZUioro1QAJlA9b6NhJRgwnKu0rk2AbOE2in5cmyETtIvp8enF6evTs5P1zmY6ytNiZjVHMyERDt5MkpQAx3QBoeYbf6laVyvy7/Mc91FNMJz7HJm8CG6uoIabYTfZWitIWcFSsJp6A4KqBEs6DvQmqNbTTVHK5rXlXKYQPQ2TT3qW3pUGnpgxuKGLaZGq8iDmnaX/dPdGqgrNofxtDb4M4J+tHjH56n3elXGTJq8Xgs52nHFR9vZ7YV85EaUBNgFyXxAzFfwQV2cnZzdxGezsyP+8+hc/I1mFyJB9rzOE5VNRZZLvva2e7+G/BTWCbYnlqp1glkn2H7sNNYJZp1g1glmnWCmu0OsE+wpcr2NEyxvi+g7wdRoI5wBQ2gNI7FwP0ix/SuZHaiag69vThqbgicb6z/Scdtt2QDEoU+gJyxJuDEYhenAUARmiDMHZBsKwIE0DMX3vaUkDryJLAEFOGIgpES8EEy28UaUEipafXOcwnYd6qnWVt0ThdJWmz6d/bCNFpRKAi1/+AZixM7X9xFGe1JKx4fGyBtGmnUf4JljHzmaLdrzGPNcENOjNlsGH1VLZXmvdBwXiaDvUPKgWM+1TogiyPogqj4Irly5XLdStTmqpWoBY0xrue7cOgFDQqnVcZblIJagZYKmXg8NeuYQlpzV/of/QK4ePfMQS9AyQaVNqtVAYoOwDSSa/Ts7NJCQxNXRxtYAq4q1UsUyq3umpfMWUQbab91H3rg1tmN8qIi01d7jiQtUHSFzHGC22InNJajl89j4PKq4w2epxdW0vCwPmbSIQdDC6JZZdTBI3f7Awx4ISAQeKI7QG+nrF44RIHIGJjIewLcMJjzggSfvivEyNQksIbtDHjgMCOArJkJBJEIInKmQKrtfDvdg5aGm/yCzNOFE5kPYY01HufHWRyg2/GvLiw3CajotNB3N5KIfyioaHW07t++F7NJZrBuEgYt1enbWxgQ6O6s3gcS9ugNRkg1BT0xXseZZnsetjmptOKn1lbKJzOPoTx/Jw4fAJUtUX5hQHtKoP/lcc8Ry9O5lCS6+xz6A8znElAE+44tkxkJJwOn8VLTFmHveBNzEF9OL1zfx2fn8SPyX3Hs1n72uVZn6epRN2tiTHdoWGNgCgxFtMbbA4PE3dltgsDeWgC0weJqpdbbAwDSutykwEA0ybgnVC8rlMAba/t1n+zGcdsysvlU1kTisbrFpmwoMY7qXz0dTmO6KI9TqTffy8W1tLfe/If4WRoCEKMCeOGbr0schXIGYISriC1yPEYEFcepWdlaXyirfdRplWCL7Luk3TjXW7AvG/P9ypOLrQTqpUxycDLQG+6Nr1bbK4ukoBW1Uwfwr3vYdzGOsUtBCKVjLzrYU3ghb88jbve+rsCPtsI4znIHEPp62CrNMG+Is00oDLf5VSaBH6hykJ4/X4zlze6GxD1nk+OQWBztsyBWwTfwaj11e3YOLKnNr07yoaJsnu3o/ZsTdHF9RJLo9ZEQ8v3ASRnG1jeksjL+QME4OQa8PvlfGTBpN+PXo3aPvmzmKh1FMTy5u4gv31MsOozg7QSc1zffCeOZjFzDkxlScauGhENJoiQJVP4WBH749Qv9VvAoeknJohmm0cDJP1iK+I7EjPhknnHUMjEFKTmwkfyzWjI3kb9PvbCR/nxQwG8m3kXzrvrWRfMv1ziL5G71KU02oAI1wGwytK4jfupTPYyzRdyD6xphsq51tEOapZh0fiVG0z9umrhRRTy1/pRCB4t9cWyQUQCYs0aFFQsGPpCEYyjjjIlJtAtj18etq+NrzRH9V3fVdgtkVvletiD+njuN3hNL6rgCKUZMm13rmjubLpABo4VxPIxDPGKCILwYWiSS2dBqR6OaSZShCEsVewtLvfXZxxH+enKOb+AJB/vfrs+PXzyeAIRRk/m7oLUWnI4VjfbgH27K3PfFo2Sy6p2OQt3HDjDmC/3hqSPf+Y9sTuvee0POMim0JvAaYoOCVFnAbM/u03s4+rRjaIfGxu9KUEwWQgVTuXEwsudnBtVpdg6UEM0JcDG2T70lLeVEfM4zK2X02OUWhryjiq1/Xa4AJsmPoBc2VROLf76TRl6A2CXc8IbWqCr9mll7X2hLMhDdskCzcx3FqXRMXQ/9DwGIqEnrrE0bVAydNri0mIQ7OMLvnjiYzgfVMxUOcX5/INkrHMGmmdBO/Pj8XrZRO3Gly5fmb/CzrBE55HHTWsDLZdLekkQ77Oazzay/e5EmD88tmitpM0VEpITZTdJ+UBJspajNFbYjCZoparnfY82mn06TtMdJPxRM6mIrQvR9U2qVcLmm33KoAn1rq4ki8MV8oDBiO6r0wxQGTJu9LlAzd3emSTgAo9tCLtHdXsX81OnslelSfn9/EF6+Ojvnf3vQ8qap9nndoBB7nzhbXSh9Psw6UPbFyrAPFOlD2Y7+wDhTrQLEOFOtAMd2Utg6Up8j1Ng4UoaBnrXx1NQUV1gjL/hFcKdLM0XSmrDFGEL0Pd8pIHAGXogSmoQF34f6kyQ0gi2l0W2/zpTKfgyUS5tMbbqX7iE1y/a4YOJwTyq3ze4weEGWiYZYYTejqxUIkM4SQsQfC/1hAtpgAn7h3L0isbNLV56Os/b8nSrqtHno6OkYrzZIhKv/WeAfzGOvp2erpyeSmI+Smjg5XARqhSwyeRC02uirZf72++lSjOmeAsiTDbgT+BXzMejvJN7ffzGLsR6I4Vzyvt02mgRmCQM3MKNO9JJ3EBGVmcHUj0mLGGmCZ0Tkz5hD7fNuWzboVTKl11FVwwx11fdTXHtCxo04ox5xE3BDAvq46Vcba2o3x+GiqCpSHmSCywoh5S/hGAoMauZaDlRg847i+3p/1lWG5+vbq6mOBoW8/lHfuv/7+9v3nw2PJST4IJ/29FW+WPZzA6HdrJG6hvxF69w5yq8CD9L8RpAcK11BlzKTJPcQ1+TvHTYc7q2x8Cx+RGJslb4hZOPtfeFBUsySTARgknVyAT6CHPHAoRl5HfM2Cd4TrMNh/xkBAIuyi528AjgA3OTiSAXeBA8TQi2ymZ0zhNxry8TeBeBqbAOmJCn3oIiYfLDWwF/wZJEDrGiHODvnpftQFlTGjpf6TDe9G7Xlc27cTvafeqcRITFUJcg2+8zXCCGu36FyYHrVx4/FRte4Fea/cmGSlZ1Kl44e3qB5n2+vFdkpEnWbBbgFk4PLuPpMkpdgOml4eaKBL2qp5HXUanPMvsvhC7lBNj8Hc/Ub1jiYjuf6RDd2q2V0FoqxZwoCE/QQgH7vE/gpgJjUdaasAhhjjmIkIzhFxhO7DgpuWfIC4T+Io0ZZihqphv56eYeN9eyJKbbzPxvvyG6qUATWRqPq3sIiyMb+tMb9EwmrmGRdAtiXjdu2QxbN/IDdKiKRB6DLOQFW8+5K3jGh6a7qIsot6+6JG30PM5f0O+3IRaeC+vCf7cKu4Edekd8rnZran217wNzWjdmrdl0daLo+NyyNxXbyNA09+4YrTIr0zaXJXzDZjtvopREXw0ZH4OT8XP1/N3gCG7vmS8wGO0JKBOSXL9aV8SvEMLfgqk26GOaFLWTws/lny1UpFazbhbq56LQZ54g/4MFxOUB0tKBtvnOXUVQ/wejeFbnJqt4mp49Lpp216gvNR9Vr9tNIVPP/JKmSuz00twYyg9tCZqVzq6K3tNcAIcvdtsN6hlcie1oqN5jE247TzqKnYux2xGWoxpYiybOmcLba8uF5I7WcoQGG8yE8/Etvl57XCfqCwX3J3G20YrziuRSbdBgGiBYzAAgoriKU2xaGwFR4WhKG0VjKphRS5ZpgCFzLEnqsKKzua1doj1h4ZuzTsIWw2EpF0jeg9dtEH/s6qZFL+dqNQYslAB2cj2xSBJxgpMMADjhYyvTWAYoRoXy/aCfAv+IwB5KO0VnudAMsFjnCDrIDPf/lvgPSdvJaHPl7cxGfn3oz/PD1ylaJrwCdb8WbF216Jt57cLaHeEYLpePMip90fH6ibBmDD/xrelPE5qx5v6Vpf1RNwivjoFvrODDKs4Eq9Y7wEM0K2DO0YT2iormu5XkLfry3NKiKHq0vvv0TrZHpxvq7OEv80FWZd/3758WO1djakZIlFAskupK2ALXWL1CWBaF3qCI1NK7m2jDNCZPS9YbqUMObwNXmv7sDfWHxfBdsSfJ0SfGHua6kqG4RVVDpXVGTXQZad/ChJrSvba6YYTsJPxy/e50gVtWzI5kfKeKUR4rwfz4iPhTfRWSJOMD1TSIW1kqZ7SZPm0GnxpgCyTOmcKSLL0WHuAi2hDltKsHEwRjzWGMbYrIr67cRmVfQQwrwMQx+7MGVGtZN17vaksZF1aWCrQnaRyPASXIIksfwZA7lZRKU5BCGkIkUiSYVwF9j3+P+AX5T52QIPQkRz2RQ/HZQWU28PugkgYPwZfhIJrU66BsoYaUDW074UjY7mc8DpI2rlZTpHlgVyj/iHEWZ9y/jn1wMXR/ifKMiq5eT3SP/JFV1z2Nd1YGhzcB/zoSP+Q8UBHn9odpgcn6pwLz+pLdgfRSGgLdh/OvtJm4L9okhonQFRFCTmmaC9FJMvcRRpN3Uq4yyx25wQlqV0a20teZB557B1nxCRqEjadC7BLKW3U9oWNrRiw9AmeIQjXy9pJQMYKMX3P59tu1AxKZ1tjIe4Px59p22Szaf1yebTao8m4QHVPFYvjzFCRAyd2mNDCCPcJkvhMz15XoEa8V70nb+yphv0PM4ZpiuI6vAmKOtDyyQXUoqRogN8g39lAzGB4r1n5vNR4twAJyBa2ngRZh6lu288yeIwTCq1dDbYIuqHdtiR0XvorTSNGwWRQ9GtsqdK/XJXYQ3cTNvspfVbaWUnldXWQkjoE1wBtfTeRm+KXITvdyO4Cmspvo3iNtf58XKdbclEnzm1+dyEakC7xvLJYZpC2UbpKiISXdb01ukeGgK4ABrMSXggniJ0+b4cJn1b6yGUfXdVm139Qi2AnvJKha6Lwt0yV0pQ2wx3PJmP1VQVD7l4t9OaikjL5TFz+R5RplT7a9WgHMKeFF1WgWyWeD2p9zOrry5LvKhQ5FJ72ypvBZB5ztBusswqufhlolcp/guhCN8Gv6GVpPuHQLS9UtrK6kz6/SL6H9myyq5uPiKFD+v87+Jq4zTg3xwlVvK7y+t3lz9zLa++zCHnvEgT5RVuixT5y2+fkb8m5hOi+B99FoP8TOFc3V1T3pi0LABxvPXwFo3sFtCfv5hj30devoJiAuY4wGzBr/oilJ9070dY1EGAkF+SnfoJBbOVPEyas1dxKED309tTDPdCpE+ALYp4OurTvhdFmHQWmU3Tr1LZpunvL6X54yKh1GomW5VgRkQsh06ysn4O0zbqOj/HSKrhP3PbQBK9eqh7cqe1CUQ341uclXb2+sLjPz2EbuJXM/f0jSweFwXnBZOFW1X8kkuWITer+RXVIWg/MlWrcnNb/j023ctaOk9HgLaxdPJySO9NrCKNa4ffvcEzZsNy713zhewVIaurNG7Op1qDbB5V2a5ZqlO+m2yaZU2+915ajkOYM2NRbBHXeOYNjZ6KAxrVXFoZ2kbDXSukN/H52YX8efL6TdLsKDsJaxmzCMCAPQhtFcygBxI1Wjrh+UAoMq+RUuvteHqFJvz1IBmdSmxZlPx36/of45ZhFWKrEBfKD/Ivbuu6gzzI6mct9LPx2R2GE9weDPW0OmlUF+8BCZM0mX3MkH/kSo6xSQu9BHnXJ2w3RSYPtGnT4wmEJHrLSAzG64ibAd4vWH7p6smmm7uTxoNN5Tj+zHTg9nSwAMShT6CHPCBQbwCOGLfPIsSAaF4BUODSlajuADiQ546KR/CvMOH/YAYoeQAMrljayJcPWIkmvorEsB4fZFPE9kSTsnaitRMLp3E9cE5omi55jHl6dfc2SyZ1NTvmlmDWPGwTL1nA6dm5lgmzRhhI4B4a5+B/KoyX+lBUOtykSFRnNW1ZvpykisaSLeMMXLh9ODekLuvcIb225UWYgaTurN/tSMy4L1zHFEGt90FEVwcKS644YNI2vS1KYe2sOnEEy5Jwo4rMAZTnnbwRdtOE/0CiEkeU3jyI808iIn9PAAw8/teqarf92FTWMtsTJabeMtuHIINJ+voO/Tes5bt3li8X34Rq615FlInqQOcxj4RkmoIrhzGQyD3ILDdLTdIgsbmtBbu3H4Sa5ehHSEswE3II+z5wgMtsfToXQAYu6O7JHBBVGLo+EzYbb8ISfkJpsO/gMoT4Nvg57YT/Bfq+0ixWD5w0mcduCnHWbfajNahFGwx3AYNbJIKNC/IA+DdYZSZuMu0zBtKJMWJAdJuRkUl5yCiHBohzNnnppcXLVVXGzcHDfwtEE4sXwXNuIVNx5FxQDYUO9+ybYLaSwVRh3s248c5n5p/j9hZRcV4qIHE0I9/XFASHS3xLkwNVp0fPfyp+pDm+jbkGLA9plQHaeMnE5xaBXEoe2Mub4Dr5UN+E4v4NuCTmS16OzU2DA/5IsESM8TXDJwj5y+uBQ/6Gr5Oc2UuG6D12uVUN6Z0jZnvehz/hLb6tdR4r1T+F6zgVLuOtxkn8xq+n05OTi+nRyfmrs9OLi7NXR2sHcvVWkyf57Yf/EM7kgtTJvMsN8d3sZdUs2inCrP+gRXVUIiC0qLyBGKi8dG9T7keq4h4TONnQdAi8QZigIZZkRJsQyWl9hOS0ciCgqtFbw1Y4cFdQIzbDkSjgH4Sy9Xuia6n07sL9RnVbqm3OMje0TXIhDl7wKTNtD8yJqARLS3GVSYJbAa16JhRqfW0HhdGpKzYR0IZDbEn/I1gH9rDlvg9bnhFPkeNT79nMxhtB3yFcm0VvfYgVXeKaPPUpwAhy9x12omju3PHvpmeJbTDm2WL90FizUHqNMI++3e94QmnaQZvMwWzNnq3ZUxrXn3Ihi6swuoqVvdwVoyZNhnY+EOKQMHJI3Lq3e+rJBYcPyE2SMX0cwtUEsCV7DqQtLXdAcBgSH7v8xowv3DmOwMuXL59vLG3gEcQA/yTgAQYRCGO2EKEalck+zDOV/WGK+n+26dxDn79jtlPMKOWyNfyt4W8N/0dQg3TV+B9S4cdN3DZGf73JXzH4k/1Gg7RrgIG07cY+Gol+dyWzY7KUJJVuVxrRqNeVcm3aqXSy/CaNhUQkay0tsn1IIR8IHIosm+QRz9/IlJtkgYA7tBKtFELGNS2KIsr1L65yUcgWiW7GEGeoV9HrhnrwTZDleCS1RAwFnmgRyNXD6AG76Ke0F4TMK6IcQj0ms6bmkCa3OADckraHBX0t55RsQvNZGgRHfM1d9hFkyImDCKe3Ejo4M+x9lxOIakgbWxrNnmdVTKtiFpu2eXGoXXpbRBnXlXt61OZt46Pqc7qPqqlnj5fkNzIHW9/afGkLakvpEsw8SnffcuLRDNTtdLZZqzZrVSOp0sZKe43jhXAlOiZVCfzr9dWnGnG8gZRVSuxG4F/Ax6xNluXIRHIDZQUtCmpjJQmgHO8v6YNignISwH6kYx/woTHKPsveSQ+bkt1vSjaMIrQMI8Uybj5uJY8bLkX7qC8qd3fcig9Z5CBKCdVZtEWUeQu3l5Q314d4qash5zDmkbl7BTnvhayQudl5VYLadJaxpbMUSnPQd+FNlkJ9B0elAm75PWZ+y8jIbu91CWr5PGY+h5TcYw9Rh6K5lsuuhDNvr+yhTWwakdN8n3Iw+y6N7V0aSUrAdQTnc5HR6aID5TkNm9uT5oMa+EAn2IxskdyZjE5LIjfH7D2THULmc3CY9OcEAYJiKYgoe8jNGdmfIztsT+ZcqrI4u53c9v3cEwPDBsttsNyecDZMhMAmIig91W0kGR/V4Ku2Va62ynUsunQfVa62DNOWYe6j/3osNls8y5OkarTl708arbbyyK1W29/E0QibErfkMHTkydMSvr+kiPOeRekHmKG0EQ845NbVpayie8aeS5tMZFwLp67PF1SSZS34Jw5Z5zOxEAVe1agb+NktSvTEFHzGpSRqOqO4ZYv1Rvj2TpqMQ1u2NVCiZ+6Nae0yzmEMJHIPmXE5UaRjNBRhBpK6e9c830vkWUYORUv+UPFRKhSvzXVRg43JeunsaDefBLdOhFRS4y0hPoJBTaJAHlci64wD+6Lr+sqwttrbq6uPBVvt7YeyMfbX39++58JELnA+CEdITfGZSEVWNZhuIvcGZGmtQes49HZ0TBeR1jE9Fse0IugnP/1I7Md3iKYdWZQxv/ztSeOBBaWBrYp/cyCQmmxvgIdcLA5S5/YdCUTUTlTOUnSL+Ywr2et/AmYrWXd7jxG3+iYiXkfRPGZIYSj2+Jw2BblZDAEzFts2rWOyQ2x08OkI4X3v1mJSNVwqgLUPbS/jDDRJe2iJy6fgNPT0AoZ5kIFk7iP6bTMLeqs9jCmX9FoLOAexy7fVCe7jKzJ8zKyNoeoL61MKzKovHDqngCGKoVa9/QZhXBJS9+JCHN03X2mrFSWYgZK5e8kxh27EHBQoehvUC48CyMoPffkRenPdTMYcxASK9x0q27jDKjRu9rAUgLaSZTxO7apDBX0PMZ9uByYXkZbLY+YyRffkbqdXuYi0XB4zlxN7z0nOdt6F2coJrIN8xItgVFFK/uvPxPdkkK0apNzcnTTGKPklZ7EZ2ObMiTS/9GFBwAIyABmXWNnBjXy6pINvEC9niAIcMOwhgORp4+IuwN5EHmL+sJARQnmRgSVcgRkC6njlQM+0h42P+HzViQ1OPiHZu1/ByRF5troPl43REV59hQ74poXv0cEgRO7rhHlHv+leBWiep6WX1tWZoTVDXIlQuGybNu8qdqeU5LERfcCtfA+MqJFxZ0/27VrDeURG02f++ian7R3UGE65EduNJ1oc3MaASkwSIDLvccBHgWXMojSNEsj+XmnVHR/3QGLf4zbPPTdopAvQ45bM6gGulGZSdzNbY2jUErTBGBKLUlMn3kCMU4j7qBwfuDPy6GzK3lNDRuM+Hxvp910NGGksbGS5V/vO5TEpe9hDtWoe9rZV8EgFLxu2VbX7Ik7GE80TKAwY5nqXcEPDVCtj4JYQ6bNOeirMMeWqGXNhwP+ForcCuQM4qqp1nc36AyqdVSp6USrqtTjBQU2C5yAGqhk91AGkRpJ2F4ACzJK6BalFiG2X+l1mdTm7y7fY5a+56Kvb5eW97bs8y4a1qtIVoyd8V5ZdcAkFcSgOdhIhaVExyzdfMp/Le5m0mADouijki3NrZW6HcytbNJUE2PrfbP8oN2f6KneWwFbqjkm21msOdlsbLjTqcnroqWgpwEDyTtskRE/rE6Kn1aM4hzc6Rhb16duVmSR+KWnc5LAvwHqKfZrquM+1xoojlyy15EcOYqAEsYcY7pv8YCSmrt4OuEYYuIDb9N2u77pd6bld0cx3Ued+1Cs06hXdfRGWdDlED1i1qhubuxWBtsGbRoO3nHlZofmW5J8C0vqIRucjKm7G3O72dozrFqAGMtqwPO0x+Qbxregc+xtaHdR5CDcjJtv9hMngrLC5Rb5XAN5707Oz49eAY5KonJiEpVUoMxQ9IBSAbwGJ0pTSb7JYRV6Ac76Tf5uAMJ75mC2Ql2ZxfUsvJMdBflMkgw322B8IK97pKTV3hoYTu3Kd2AoZK3mLbaL4y+pqt20ooAw007q3GkKK70VjeE4z3cYkCqgJdtrQ7Uk2u5iugCsi+xBwj7rT7Ik4a2VBrDWTXXi8Bhq4h5nE5IKGqcvoCtgye3TMHolt+CX1kB4orML1vclWezDKD21R/JO4rGjaVV2ez5WduSWjw9IG25zH/JNIBBEd1xeQLQCZy/OXGeJaeSSSP+9QqMgY7e0p9pjnPclRsJagtQQLmhPUCzRn4w20/o5blZMfN5STH1fLyW0mUK+ZQGPrJW6U8yLZ5x2x9Wut4CLMkroFqbMtVO+UhyLKQEJ3n5npYSa++S5qTglqW0lY+1EdW4TLEOJbdd1Bdm/SaD/mR7UqO6CxyP7ndtomLhcSH7srQO65tScKAEMSxr5sR/EGLGHkLibglsIgmgC++MQ6ZMqzozuf3ZqKeyI0raloTcWC/1W+8prphgWQecefPNmuelKqe8MItGm7Nm8NXd4URL7Vs8ozwIAkltvoMBTuPsFerg9H17tURBlo0HRvOULmkLl6G1bTeA1o2n33kNANhBW7Z4ls8uVCiq2strYphzCoq2NnR81LbV+LoDmEJWiVoJsdtiU9NwBLzio5EaVEkR5SvxetASZkXQ3QONe6MAeyEGAYUnKvTekSzLxV3SOl9R0dJah1Fo/NWVwyB+lu/qwi0nJ5zFxOFfgduFxEWi6PmctzHMgIxQ5sLkEtn8fMZxah0CEPgSrnu8mPl0dZHaiNP5pTzEeQod0Sr1V4+2aN7c0aSej8LzJadKAInKd3Jk1h83AzpkW+dTL6jcxojtD3aCLj2DT2UVoTC1dMHiuHZarznNDkqLgFeRCXuN3KdQImQEtVonXX09uw+Z6IThs2t2HzQrMeHPlaQbA1wEBv2PG0TSskPqo+1DittENi8XIJqZYzLAcxkMpnx20aevFRtVSW94pUnhFPQeL6+uVsvBH0HbpqWWyBOus5G28EsXtv/herBPKv11ef1MTNxpf3XexG4F/Ax6xNeG1sRG4gqqBE84ouL97SrikmKK/oGSfPHCs0n3q65yA/RPr9sRV7obw4ATFIbaW2pM9j7LL/AeJza9VfOTFV+E0aQ3UbkHlOqulZG5HOR9WHn88qQv0e+thzRCd8tXGlpnQR9YMZUSMjul5CVEKJBhdfEwFbefZMp+CeZO56FM6jYVwq3atuc7jEvm4OegFkc9C3+/zvEWVY1R67Nvcsh9gp+WynpXzcF3k7Tj0LKbrHJGa6pRNFmHl6QPcL1+agDXVuV+jt6MouIq0reyyubEVoMP30lQ5cO/G9jLUx4PEwuhq0gNRd4B0zH4tQy+ex8XlUsf7PIs59UBvwT25Ptkf9Hboe2Sb2z9VVEXHOytiTaLsnDtdzkbib3UhMB3AIfV9G8lM9lz0HDwu+YO9lJzUaBwws+CdEwU/gW1rW8k2E9A9KC2rAR98EN/HZ8al3E1+cnZzwv08u+M9TBGdJYT7j49fFud9ECoLIT0gfkqQopB+tMQfha8m6kt/OmWHvu+K4wKyvQd1gm73w6CpeffaCLf8eQrEer4PDKPslL3p0lnMRZt6C7qGzVVHmt7bJS1uFXdTbF3VtCW7j+VT1Zbh9Hk71OPp5l2dT7Ye3nyvC3BjbV3e/zZjcZZVbK7S9FXqJKFYboOmdSZPtCTdjtlmd9YztOLO7NkbT9lTeVPv4Mcuoz220k/BMvaFTG/2qF+314S8TNJXp2VmrfI2zhnyNM0VttQ6F0+EGUreXttP8iREKtLLtchCb8aWZ8fWom9kf/w8eOhjc'
