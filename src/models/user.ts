import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class User extends Model<InferAttributes<User, { omit: 'fullName' }>, InferCreationAttributes<User, { omit: 'fullName' }>> {
  declare id: CreationOptional<number>;
  declare username: string;
  /** Lower-cased username: uniqueness and lookups are case-insensitive. */
  declare usernameLower: string;
  declare email: string;
  declare passwordHash: string;
  declare firstName: CreationOptional<string>;
  declare lastName: CreationOptional<string>;
  declare bio: CreationOptional<string | null>;
  declare profilePicture: CreationOptional<string | null>;
  declare isOnline: CreationOptional<boolean>;
  declare lastSeen: CreationOptional<Date | null>;
  declare isAdmin: CreationOptional<boolean>;
  declare isBanned: CreationOptional<boolean>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  get fullName(): string {
    return `${this.firstName ?? ''} ${this.lastName ?? ''}`.trim();
  }

  static initModel(sequelize: Sequelize): void {
    User.init(
      {
        id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
        username: { type: DataTypes.STRING(150), allowNull: false },
        usernameLower: { type: DataTypes.STRING(150), allowNull: false, unique: true },
        email: { type: DataTypes.STRING(254), allowNull: false, unique: true },
        passwordHash: { type: DataTypes.STRING(255), allowNull: false },
        firstName: { type: DataTypes.STRING(150), allowNull: false, defaultValue: '' },
        lastName: { type: DataTypes.STRING(150), allowNull: false, defaultValue: '' },
        bio: { type: DataTypes.TEXT, allowNull: true },
        profilePicture: { type: DataTypes.STRING(255), allowNull: true },
        isOnline: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        lastSeen: { type: DataTypes.DATE, allowNull: true },
        isAdmin: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        isBanned: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'users', underscored: true },
    );
  }
}
